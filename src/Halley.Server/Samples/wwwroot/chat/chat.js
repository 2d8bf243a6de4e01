// The chat sample: rooms as channels, who-is-here, the recent history on join. Public client API only.
//
//   /samples/chat/{room}            the room's messages; halley serve keeps a history of them (Halley:History)
//   /samples/chat/{room}/presence   who is here: join, a heartbeat, leave; no history (nobody needs old ones)
//   /service/samples/chat/history   the room's recent messages, from the engine's history (any node)
//
// Presence needs no server state: every page says "join" when it arrives, "here" when it sees a join and every
// HEARTBEAT_MS, "leave" when it goes; a member not heard from for EXPIRE_MS has gone (a closed laptop says nothing).
// The messages travel through the engine, so the list is the same on every node of a cluster.
import { HalleyClient } from '/halley.js';

const ROOMS = ['lobby', 'random', 'halley'];
const HEARTBEAT_MS = 10_000;
const EXPIRE_MS = 25_000;
const VALID_ROOM = /^[a-z0-9_-]{1,40}$/;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const room = VALID_ROOM.test(params.get('room') ?? '') ? params.get('room') : 'lobby';
const me = { id: randomId(), name: chooseName() };
const channel = `/samples/chat/${room}`;
const presenceChannel = `${channel}/presence`;

/** @type {Map<string, { name: string, seen: number }>} who is here, by page id */
const members = new Map([[me.id, { name: me.name, seen: Date.now() }]]);
/** Positions of the messages shown: the history and the live messages overlap, and each is shown once. */
const shown = new Set();

const client = new HalleyClient('/cometd');
client.on('state', (state) => {
  $('state').textContent = client.transport && state === 'connected' ? `connected over ${client.transport}` : state;
  $('state').dataset.state = state;
});

renderRooms();
$('room').textContent = room;
$('me').textContent = me.name;
document.title = `#${room} · Halley chat`;
renderMembers();

await client.connect();

// Subscribe first, ask for the history second: a message published in between comes live and is in the history
// too, and `shown` drops the second copy. Asked the other way round, it could be in neither.
/** @type {{ data: any, position: string | null }[] | null} live messages held back until the history is shown */
let held = [];
await client.subscribe(channel, (data, message) => {
  if (held) held.push({ data, position: message.position });
  else showMessage(data, message.position, false);
});
try {
  const history = await client.call('/service/samples/chat/history', { room });
  if (history.messages.length > 0) {
    for (const entry of history.messages) showMessage(entry.data, entry.position, true);
    addDivider('earlier messages above');
  }
} catch {
  // The room still works without its past: say so, and go on with the live messages.
  addDivider('the earlier messages could not be read');
}
for (const entry of held) showMessage(entry.data, entry.position, false);
held = null;

await client.subscribe(presenceChannel, onPresence);
await announce('join');
setInterval(() => {
  void announce('here');
  expireMembers();
}, HEARTBEAT_MS);
// Best effort: a page that goes without a word expires from the others' lists instead.
addEventListener('pagehide', () => { void announce('leave'); });

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('text');
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  await client.publish(channel, { from: me.id, name: me.name, text, at: new Date().toISOString() });
});
$('other-room').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('room-name').value.trim().toLowerCase();
  if (VALID_ROOM.test(name)) location.search = roomQuery(name);
});
$('text').disabled = false;
$('send').disabled = false;
$('text').focus();
document.body.dataset.ready = 'true';

// -------------------------------------------------------------------------------------------------------------

/** @param {'join' | 'here' | 'leave'} type */
function announce(type) {
  return client.publish(presenceChannel, { type, id: me.id, name: me.name }).catch(() => {
    // Not connected just now: the next heartbeat says it again.
  });
}

/** @param {any} p */
function onPresence(p) {
  if (!p || typeof p.id !== 'string' || typeof p.name !== 'string' || p.id === me.id) return;
  if (p.type === 'leave') {
    members.delete(p.id);
  } else if (p.type === 'join' || p.type === 'here') {
    members.set(p.id, { name: p.name.slice(0, 40), seen: Date.now() });
    // A newcomer learns who is here from the answers to its join, not at the next heartbeat.
    if (p.type === 'join') void announce('here');
  }
  renderMembers();
}

function expireMembers() {
  const now = Date.now();
  members.get(me.id).seen = now;
  for (const [id, member] of members) if (now - member.seen > EXPIRE_MS) members.delete(id);
  renderMembers();
}

/**
 * @param {any} data
 * @param {string | null} position
 * @param {boolean} past
 */
function showMessage(data, position, past) {
  if (!data || typeof data.text !== 'string' || typeof data.name !== 'string') return;
  if (position !== null) {
    if (shown.has(position)) return;
    shown.add(position);
  }
  const list = $('messages');
  const stick = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  const item = document.createElement('li');
  if (past) item.classList.add('past');
  if (data.from === me.id) item.classList.add('mine');
  const at = new Date(data.at);
  item.append(
    span('time', Number.isNaN(at.getTime()) ? '' : at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
    span('name', data.name.slice(0, 40)),
    span('text', data.text.slice(0, 2000)),
  );
  list.append(item);
  if (stick) list.scrollTop = list.scrollHeight;
}

/** @param {string} text */
function addDivider(text) {
  const item = document.createElement('li');
  item.className = 'divider';
  item.textContent = text;
  $('messages').append(item);
}

function renderMembers() {
  const list = $('members');
  const sorted = [...members].sort(([, a], [, b]) => a.name.localeCompare(b.name));
  list.replaceChildren(...sorted.map(([id, member]) => {
    const item = document.createElement('li');
    item.textContent = id === me.id ? `${member.name} (you)` : member.name;
    if (id === me.id) item.classList.add('me');
    return item;
  }));
  $('member-count').textContent = `(${members.size})`;
}

function renderRooms() {
  const names = ROOMS.includes(room) ? ROOMS : [...ROOMS, room];
  $('rooms').replaceChildren(...names.map((name) => {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = `?${roomQuery(name)}`;
    link.textContent = `#${name}`;
    item.append(link);
    if (name === room) item.classList.add('current');
    return item;
  }));
}

/** @param {string} name */
function roomQuery(name) {
  const query = new URLSearchParams({ room: name });
  if (params.has('name')) query.set('name', me.name);
  return query.toString();
}

/**
 * @param {string} className
 * @param {string} text
 */
function span(className, text) {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

function chooseName() {
  const given = (params.get('name') ?? '').trim().slice(0, 40);
  if (given) return given;
  const kept = localStorage.getItem('halley-chat-name');
  if (kept) return kept;
  const name = `guest-${randomId().slice(0, 4)}`;
  localStorage.setItem('halley-chat-name', name);
  return name;
}

function randomId() {
  // crypto.getRandomValues works on plain http too, where crypto.randomUUID does not.
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
}
