/** What a handler answers; the server serializes it, so faults can still cut it short. */
export interface ApiResponse {
  readonly status: number;
  /** JSON-serialized when present; absent for 204. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An error answer of the emulated API. The body is `{message}` unless a handler needs another shape (OAuth). */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    message: string,
    extra: { headers?: Record<string, string>; body?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.status = status;
    this.headers = extra.headers ?? {};
    this.body = extra.body ?? { message };
  }

  toResponse(): ApiResponse {
    return { status: this.status, body: this.body, headers: this.headers };
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const unauthorized = (message: string): ApiError => new ApiError(401, message);
export const forbidden = (message: string): ApiError => new ApiError(403, message);
export const notFound = (message: string): ApiError => new ApiError(404, message);
export const conflict = (message: string): ApiError => new ApiError(409, message);
