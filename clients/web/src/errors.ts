/** Every failure a person sees, in plain words: Cognito's exceptions, the broker's reason codes, the service's
 * `error` events. Nothing here throws; the pages show what these functions return. */

/** An error whose message is already written for the person using the page. */
export class PlainError extends Error {
  override name = "PlainError";
}

const SIGN_IN_ERRORS: Record<string, string> = {
  NotAuthorizedException: "Wrong user name or password.",
  UserNotFoundException: "Wrong user name or password.",
  UserNotConfirmedException: "This account is not confirmed yet: enter the code that was sent to you.",
  UsernameExistsException: "That user name is already taken: sign in, or choose another name.",
  CodeMismatchException: "That confirmation code is wrong.",
  ExpiredCodeException: "That confirmation code has expired.",
  TooManyRequestsException: "Too many attempts: wait a minute and try again.",
  LimitExceededException: "Too many attempts: wait a minute and try again.",
  TooManyFailedAttemptsException: "Too many failed attempts: wait a minute and try again.",
  ResourceNotFoundException: "The sign-in service does not know this app: check config.json.",
};

/** Cognito exceptions whose own message is the useful part (which rule the password broke, which field). */
const COGNITO_MESSAGE_ERRORS: Record<string, string> = {
  InvalidPasswordException: "That password is not accepted",
  InvalidParameterException: "The sign-in service refused the request",
};

const SERVICE_ERRORS: Record<string, string> = {
  provider_error: "The model could not answer",
  internal_error: "The service failed",
  rate_limited: "Too many questions at once",
  text_too_long: "The question is too long",
  payload_too_large: "The question is too large to send",
  idle_timeout: "The answer stopped arriving",
};

/** Prompt validation codes: the page sent something the service refused (a bug, or an old page). */
const REQUEST_ERRORS = new Set([
  "invalid_json",
  "invalid_utf8",
  "not_an_object",
  "unsupported_version",
  "missing_field",
  "invalid_field",
  "invalid_rid",
]);

/** MQTT 5 reason codes (MQTT 5.0 spec, 2.4 "Reason Code") a person may meet, in plain words. */
const MQTT_REASONS: Record<number, string> = {
  0x85: "the broker refused this client id",
  0x86: "the broker refused these credentials",
  0x87: "not allowed by your IoT policy",
  0x89: "the broker is busy",
  0x8b: "the broker is shutting down",
  0x8e: "another page connected with the same client id",
  0x90: "the topic name is not valid",
  0x95: "the message is too large",
  0x96: "too many messages: AWS IoT's rate limit",
  0x97: "a quota was exceeded",
  0x9f: "too many connection attempts",
};

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "";
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A failure of the sign-up / sign-in / confirm steps (AWS SDK for JavaScript v3 errors carry Cognito's
 * exception name in `name`), or of the network. */
export function signInErrorText(error: unknown): string {
  if (error instanceof PlainError) return error.message;
  const name = errorName(error);
  if (name in SIGN_IN_ERRORS) return SIGN_IN_ERRORS[name]!;
  if (name in COGNITO_MESSAGE_ERRORS) return `${COGNITO_MESSAGE_ERRORS[name]}: ${errorMessage(error)}`;
  if (error instanceof TypeError) return "Cannot reach the sign-in service: check your network connection.";
  return `Sign-in failed: ${errorMessage(error)}`;
}

/** A refusal by the broker, in words, with its MQTT 5 reason code when there is one. */
export class BrokerError extends PlainError {
  override name = "BrokerError";

  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
  }
}

export const NOT_AUTHORIZED = 0x87;

/** The MQTT 5 reason code of an MQTT.js error: `code` (CONNACK, PUBACK), or the first failed SUBACK code. */
function reasonCode(error: unknown): number | undefined {
  const fields = (error ?? {}) as { code?: unknown; packet?: { granted?: unknown } };
  if (typeof fields.code === "number") return fields.code;
  const granted = fields.packet?.granted;
  return Array.isArray(granted) ? granted.find((code): code is number => typeof code === "number" && code >= 0x80) : undefined;
}

/** A failure of the MQTT connection, a SUBSCRIBE or a PUBLISH, with the broker's reason in words. */
export function brokerError(error: unknown, what: string): BrokerError {
  if (error instanceof BrokerError) return error;
  const code = reasonCode(error);
  const why = code !== undefined && code in MQTT_REASONS ? MQTT_REASONS[code] : errorMessage(error);
  return new BrokerError(`${what}: ${why}.`, code);
}

/** A service `error` event (docs/protocol.md, "Error codes"): the plain sentence, its message, its code. */
export function serviceErrorText(code: string, message: string): string {
  const lead =
    SERVICE_ERRORS[code] ??
    (REQUEST_ERRORS.has(code) ? "The service did not understand the request" : "The service reported an error");
  return `${lead}: ${message} (code ${code})`;
}
