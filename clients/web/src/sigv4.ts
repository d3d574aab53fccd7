/** SigV4 for the browser: the presigned MQTT-over-WebSocket URL, and signed function-URL requests.
 *
 * The URL follows AWS IoT's documented procedure exactly as `clients/presign.py` does (a test compares
 * both): GET `/mqtt`, service `iotdevicegateway`, signed header `host`, empty-payload hash, the four
 * `X-Amz-*` query parameters sorted and URI-encoded, and `X-Amz-Security-Token` appended *after* signing.
 * Sources: https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html (MQTT over WSS, SigV4),
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html (the token
 * "added after you calculate the signature" for some services), and AWS's sample
 * https://github.com/aws-samples/aws-iot-wss-ts-client (web/src/index.ts).
 */

import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

export const IOT_WEBSOCKET_SERVICE = "iotdevicegateway";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

type Bytes = Uint8Array;

function digest(data: string, key?: Bytes | string): Bytes {
  const hash = key === undefined ? new Sha256() : new Sha256(key);
  hash.update(data);
  return hash.digestSync();
}

function hex(bytes: Bytes): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** RFC 3986 encoding as SigV4 wants it (everything but A-Z a-z 0-9 - _ . ~). */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `YYYYMMDDTHHMMSSZ` and `YYYYMMDD` in UTC. */
function amzDates(now: Date): [string, string] {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  return [stamp, stamp.slice(0, 8)];
}

/** `wss://host[:port]/mqtt?...` for `endpoint` = `wss://host[:port]` or `ws://host:port` (bare host = wss).
 * The host is signed as the browser sends it in the Host header (default ports omitted). */
export function presignMqttUrl(endpoint: string, credentials: AwsCredentials, region: string, now = new Date()): string {
  const url = new URL(endpoint.includes("://") ? endpoint : `wss://${endpoint}`);
  const scheme = url.protocol === "wss:" || url.protocol === "https:" ? "wss" : "ws";
  const host = url.host; // URL drops the port when it is the scheme's default
  const [amzDate, date] = amzDates(now);
  const scope = `${date}/${region}/${IOT_WEBSOCKET_SERVICE}/aws4_request`;
  const params: [string, string][] = [
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${credentials.accessKeyId}/${scope}`],
    ["X-Amz-Date", amzDate],
    ["X-Amz-SignedHeaders", "host"],
  ];
  let query = params.map(([key, value]) => `${uriEncode(key)}=${uriEncode(value)}`).join("&");
  const canonical = ["GET", "/mqtt", query, `host:${host}\n`, "host", hex(digest(""))].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, hex(digest(canonical))].join("\n");
  let key: Bytes | string = `AWS4${credentials.secretAccessKey}`;
  for (const part of [date, region, IOT_WEBSOCKET_SERVICE, "aws4_request"]) key = digest(part, key);
  query += `&X-Amz-Signature=${hex(digest(toSign, key))}`;
  if (credentials.sessionToken) query += `&X-Amz-Security-Token=${uriEncode(credentials.sessionToken)}`;
  return `${scheme}://${host}/mqtt?${query}`;
}

/** POST a JSON body to an `AWS_IAM` function URL, signed by the AWS SDK's SigV4 signer (service `lambda`).
 * Lambda function URLs with IAM auth: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html */
export async function signedJsonPost(
  target: string,
  body: string,
  credentials: AwsCredentials,
  region: string,
  service = "lambda",
): Promise<Response> {
  const url = new URL(target);
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256 });
  const signed = await signer.sign({
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { host: url.host, "content-type": "application/json" },
    body,
  });
  const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name.toLowerCase() !== "host"));
  return fetch(target, { method: "POST", headers, body });
}
