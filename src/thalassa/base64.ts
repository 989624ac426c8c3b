const strictBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
Decodes standard base64 with padding, or returns undefined. Node's decoder silently skips bad
characters, which would turn a corrupt value into a wrong secret instead of an error.
*/
export function decodeBase64Strict(value: string): Buffer | undefined {
  return strictBase64.test(value) ? Buffer.from(value, 'base64') : undefined;
}

export function encodeBase64(value: Uint8Array | string): string {
  return Buffer.from(value).toString('base64');
}
