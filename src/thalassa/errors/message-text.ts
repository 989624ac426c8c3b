/**
The part of a server error message that may decide an error's kind. Thalassa echoes user-chosen
text in its messages (secret paths, key names), and a secret at `/app/feature-flags` or a key named
`kms_path` must not turn an IAM denial into "feature disabled" or a base64 error into "KMS key
disabled". So quoted text and path-like tokens (a `/` not preceded by a word character) are removed
before matching, and the rest is lower-cased.
*/
export function classifiableText(serverMessage: string | undefined): string {
  return (serverMessage ?? '')
    .replace(/"[^"]*"|`[^`]*`/g, ' ')
    .replace(/(?<![\w/])\/[A-Za-z0-9/_.+-]*/g, ' ')
    .toLowerCase();
}
