/** Sign-up and sign-in with the AWS SDK for JavaScript v3, the same flow as clients/session.py:
 * cognito-idp InitiateAuth (USER_PASSWORD_AUTH) -> cognito-identity GetId -> GetCredentialsForIdentity ->
 * the attach-policy function URL (POST {"idToken"}, SigV4 service `lambda`), which attaches the caller's IoT
 * policy to the identity (docs/security.md). On AWS the SDK uses Cognito's regional endpoints; against
 * localcore, config.json's `cognitoEndpoint`. */

import { CognitoIdentityClient, GetCredentialsForIdentityCommand, GetIdCommand } from "@aws-sdk/client-cognito-identity";
import {
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";

import type { WebConfig } from "./config";
import { PlainError } from "./errors";
import { type AwsCredentials, signedJsonPost } from "./sigv4";

/** Refresh identity-pool credentials this long before they expire (they last about an hour on AWS). */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

interface Tokens {
  idToken: string;
  refreshToken: string | null;
}

function clientOptions(config: WebConfig): { region: string; endpoint?: string } {
  return config.cognitoEndpoint ? { region: config.region, endpoint: config.cognitoEndpoint } : { region: config.region };
}

const userPool = (config: WebConfig): CognitoIdentityProviderClient =>
  new CognitoIdentityProviderClient(clientOptions(config));
const identityPool = (config: WebConfig): CognitoIdentityClient => new CognitoIdentityClient(clientOptions(config));
const providerName = (config: WebConfig): string => `cognito-idp.${config.region}.amazonaws.com/${config.userPoolId}`;

/** SignUp; returns whether the account is already confirmed (localcore auto-confirms; AWS emails a code). */
export async function signUp(config: WebConfig, username: string, password: string, email: string): Promise<boolean> {
  const reply = await userPool(config).send(
    new SignUpCommand({
      ClientId: config.userPoolClientId,
      Username: username,
      Password: password,
      UserAttributes: [{ Name: "email", Value: email }],
    }),
  );
  return reply.UserConfirmed === true;
}

export async function confirmSignUp(config: WebConfig, username: string, code: string): Promise<void> {
  await userPool(config).send(
    new ConfirmSignUpCommand({ ClientId: config.userPoolClientId, Username: username, ConfirmationCode: code }),
  );
}

async function passwordTokens(config: WebConfig, username: string, password: string): Promise<Tokens> {
  const reply = await userPool(config).send(
    new InitiateAuthCommand({
      ClientId: config.userPoolClientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );
  const result = reply.AuthenticationResult;
  if (!result?.IdToken) throw new PlainError(`Sign-in needs a step this page does not support (${reply.ChallengeName}).`);
  return { idToken: result.IdToken, refreshToken: result.RefreshToken ?? null };
}

async function identityCredentials(config: WebConfig, identityId: string, idToken: string): Promise<AwsCredentials> {
  const reply = await identityPool(config).send(
    new GetCredentialsForIdentityCommand({ IdentityId: identityId, Logins: { [providerName(config)]: idToken } }),
  );
  const raw = reply.Credentials;
  if (!raw?.AccessKeyId || !raw.SecretKey) throw new PlainError("The identity pool returned no credentials.");
  return {
    accessKeyId: raw.AccessKeyId,
    secretAccessKey: raw.SecretKey,
    ...(raw.SessionToken ? { sessionToken: raw.SessionToken } : {}),
    ...(raw.Expiration ? { expiration: raw.Expiration } : {}),
  };
}

/** POST the attach-policy function URL (SPEC: `{"idToken": ...}`, SigV4 `lambda`); returns the policy name. */
async function attachPolicy(config: WebConfig, credentials: AwsCredentials, idToken: string): Promise<string> {
  let response: Response;
  try {
    response = await signedJsonPost(config.attachPolicyUrl, JSON.stringify({ idToken }), credentials, config.region);
  } catch {
    throw new PlainError("Cannot reach the attach-policy service (network, or its CORS origins do not include this page).");
  }
  const reply = (await response.json().catch(() => null)) as { message?: unknown; policyName?: unknown } | null;
  if (!response.ok) {
    const why = typeof reply?.message === "string" ? reply.message : `HTTP ${response.status}`;
    throw new PlainError(`The service refused to authorize this account for messaging: ${why}.`);
  }
  return typeof reply?.policyName === "string" ? reply.policyName : "";
}

/** A signed-in person: identity id, identity-pool credentials (refreshed before they expire), IoT policy. */
export class Session {
  constructor(
    readonly config: WebConfig,
    readonly username: string,
    readonly identityId: string,
    readonly policyName: string,
    private tokens: Tokens,
    private current: AwsCredentials,
  ) {}

  get credentials(): AwsCredentials {
    return this.current;
  }

  /** New credentials when these expire within five minutes (REFRESH_TOKEN_AUTH for a fresh id token). */
  async refreshIfExpiring(now = Date.now()): Promise<void> {
    const expiration = this.current.expiration?.getTime();
    if (expiration === undefined || expiration - now > REFRESH_MARGIN_MS) return;
    if (this.tokens.refreshToken) {
      const reply = await userPool(this.config).send(
        new InitiateAuthCommand({
          ClientId: this.config.userPoolClientId,
          AuthFlow: "REFRESH_TOKEN_AUTH",
          AuthParameters: { REFRESH_TOKEN: this.tokens.refreshToken },
        }),
      );
      const idToken = reply.AuthenticationResult?.IdToken;
      if (idToken) this.tokens = { ...this.tokens, idToken };
    }
    this.current = await identityCredentials(this.config, this.identityId, this.tokens.idToken);
  }

  /** An MQTT client id the IoT policies allow: `{identityId}-{suffix}`. */
  clientId(suffix: string): string {
    return `${this.identityId}-${suffix}`;
  }
}

export async function signIn(config: WebConfig, username: string, password: string): Promise<Session> {
  const tokens = await passwordTokens(config, username, password);
  const logins = { [providerName(config)]: tokens.idToken };
  const identity = await identityPool(config).send(new GetIdCommand({ IdentityPoolId: config.identityPoolId, Logins: logins }));
  if (!identity.IdentityId) throw new PlainError("The identity pool returned no identity.");
  const credentials = await identityCredentials(config, identity.IdentityId, tokens.idToken);
  const policy = await attachPolicy(config, credentials, tokens.idToken);
  return new Session(config, username, identity.IdentityId, policy, tokens, credentials);
}
