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
 */
public record OperationSpec(
    String operationId,
    String method,
    String path,
    List<AuthMode> auth,
    boolean organizationHeader,
    boolean idempotent,
    boolean resumable,
    ParamsLocation paramsLocation) {
  public OperationSpec {
    auth = List.copyOf(auth);
  }
}
