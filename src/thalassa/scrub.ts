/**
Removes known secrets (the credential a request carried, the value it sent) from text the server
sent back. Thalassa's own messages are not known to echo them, but a server or proxy that says
"invalid token <token>" would otherwise put the token into error messages, logs and CR status.
*/
const redacted = '[redacted]';

/** Shorter strings are left alone: replacing every "ab" in a message would garble it and hide little. */
const minLength = 4;

export function scrub(text: string, sensitive: readonly string[]): string {
  // Longest first, so a value that contains another one is removed whole.
  const candidates = sensitive.filter((s) => s.length >= minLength).sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of candidates) out = out.split(secret).join(redacted);
  return out;
}
