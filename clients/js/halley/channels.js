// Channel names and Bayeux wildcards, as the server matches them (docs/protocol.md, "Channel names and wildcards").

/**
 * Whether `channel` (a concrete name) matches `pattern`: a name, `/a/*` (exactly one more segment) or `/a/**`
 * (one or more segments).
 * @param {string} pattern
 * @param {string} channel
 * @returns {boolean}
 */
export function channelMatches(pattern, channel) {
  if (pattern === channel) return true;
  if (pattern.endsWith('/**')) {
    const prefix = pattern.slice(0, -2);
    return channel.length > prefix.length && channel.startsWith(prefix);
  }
  if (pattern.endsWith('/*')) {
    const prefix = pattern.slice(0, -1);
    return channel.length > prefix.length && channel.startsWith(prefix) && !channel.includes('/', prefix.length);
  }
  return false;
}

/**
 * @param {string} channel
 * @returns {boolean} whether it is a /meta/ channel
 */
export function isMeta(channel) {
  return channel.startsWith('/meta/');
}
