/** Where the page connects: `config.json` next to the page. `iotstream up` serves it from localcore's
 * endpoints; `iotstream web --aws cdk-outputs.json` writes it from a deployment. Same keys either way. */

import { PlainError } from "./errors";

export interface WebConfig {
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  identityPoolId: string;
  /** `ws://host:port` (localcore) or `wss://<iot-endpoint>` (AWS); the page connects to `<this>/mqtt`. */
  mqttEndpoint: string;
  attachPolicyUrl: string;
  /** Cognito's endpoint (localcore's gateway); null on AWS, where the SDK's regional endpoints apply. */
  cognitoEndpoint: string | null;
  /** How many `dashboard/streams/{k}` shards the feed has (one MQTT connection each). */
  dashboardShards: number;
}

const REQUIRED_STRINGS = [
  "region",
  "userPoolId",
  "userPoolClientId",
  "identityPoolId",
  "mqttEndpoint",
  "attachPolicyUrl",
] as const;

/** Validate a parsed config.json; a bad file is named with what is wrong. */
function parseConfig(body: unknown, source: string): WebConfig {
  if (typeof body !== "object" || body === null) throw new PlainError(`${source} is not a JSON object.`);
  const fields = body as Record<string, unknown>;
  const missing = REQUIRED_STRINGS.filter((key) => typeof fields[key] !== "string" || fields[key] === "");
  if (missing.length) throw new PlainError(`${source} is missing ${missing.join(", ")}.`);
  const endpoint = fields.cognitoEndpoint;
  const shards = fields.dashboardShards;
  if (!(typeof shards === "number" && Number.isInteger(shards) && shards >= 1 && shards <= 64)) {
    throw new PlainError(`${source}: dashboardShards must be an integer from 1 to 64.`);
  }
  return {
    region: fields.region as string,
    userPoolId: fields.userPoolId as string,
    userPoolClientId: fields.userPoolClientId as string,
    identityPoolId: fields.identityPoolId as string,
    mqttEndpoint: fields.mqttEndpoint as string,
    attachPolicyUrl: fields.attachPolicyUrl as string,
    cognitoEndpoint: typeof endpoint === "string" && endpoint ? endpoint : null,
    dashboardShards: shards,
  };
}

export async function loadConfig(url = "config.json"): Promise<WebConfig> {
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch {
    throw new PlainError(`Cannot load ${url}: the server that hosts this page is not reachable.`);
  }
  if (!response.ok) {
    throw new PlainError(
      `Cannot load ${url} (HTTP ${response.status}): run \`iotstream up\`, or generate it with \`iotstream web --aws cdk-outputs.json\`.`,
    );
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new PlainError(`${url} is not valid JSON.`);
  }
  return parseConfig(body, url);
}
