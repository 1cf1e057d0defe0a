package dev.mandate.sdk.core;

/** Where an operation's params object goes on the wire. */
public enum ParamsLocation {
  NONE,
  QUERY,
  JSON,
  FORM
}
