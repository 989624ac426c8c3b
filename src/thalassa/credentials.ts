/**
How the operator authenticates to Thalassa. Tokens and secrets are held here and sent only in the
`Authorization` header or the OIDC token request, never logged.
*/
export type ThalassaCredential =
  /** `Authorization: Token <pat>`: a personal access token. */
  | { readonly type: 'personalAccessToken'; readonly token: string }
  /** `Authorization: Bearer <token>`: an access token obtained elsewhere. */
  | { readonly type: 'accessToken'; readonly token: string }
  /** OIDC client credentials (a service account's access key and secret) against `{apiURL}/oidc/token`. */
  | {
      readonly type: 'clientCredentials';
      readonly clientId: string;
      readonly clientSecret: string;
      readonly scopes?: readonly string[];
    }
  /**
  OIDC token exchange (workload identity federation): a Kubernetes ServiceAccount JWT is exchanged
  for a Thalassa access token. `subjectToken` is called for every exchange so that a rotated
  projected token or a fresh TokenRequest is always used.
  */
  | {
      readonly type: 'tokenExchange';
      readonly serviceAccountId: string;
      readonly subjectToken: (signal?: AbortSignal) => Promise<string>;
      readonly accessTokenLifetimeSeconds?: number;
    };
