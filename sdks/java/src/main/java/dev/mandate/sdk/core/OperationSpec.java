package dev.mandate.sdk.core;

import java.util.List;

/**
 * What the runtime needs to know about one operation; generated resources hold one constant
 * per operation. Internal: not part of the SDK's stable API.
 *
 * @param operationId the spec's operationId (for logs)
 * @param method the HTTP method, upper case
 * @param path the path template, e.g. {@code /v1/agents/{agentId}}
 * @param auth accepted authentication, in the spec's order
 * @param organizationHeader the operation accepts {@code Mandate-Organization}
 * @param idempotent the operation accepts {@code Idempotency-Key}
 * @param resumable the operation (an event stream) accepts {@code Last-Event-ID}
 * @param paramsLocation where the params object goes
 * @param accept the one media type of a binary response, sent as {@code Accept}; null for the
 *     JSON of every other operation
 */
public record OperationSpec(
    String operationId,
    String method,
    String path,
    List<AuthMode> auth,
    boolean organizationHeader,
    boolean idempotent,
    boolean resumable,
    ParamsLocation paramsLocation,
    String accept) {
  public OperationSpec {
    auth = List.copyOf(auth);
  }

  /** An operation that answers JSON (or text, or nothing): it asks for JSON. */
  public OperationSpec(
      String operationId,
      String method,
      String path,
      List<AuthMode> auth,
      boolean organizationHeader,
      boolean idempotent,
      boolean resumable,
      ParamsLocation paramsLocation) {
    this(operationId, method, path, auth, organizationHeader, idempotent, resumable, paramsLocation, null);
  }
}
