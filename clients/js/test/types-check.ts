// Compiled by `tsc --noEmit` only: the README's example against index.d.ts, so the declared API is the documented one.
import { HalleyClient, type HalleyState, type Subscription } from '../index.js';

export async function example(): Promise<void> {
  const client = new HalleyClient('https://push.example.com/cometd', { transports: ['websocket', 'eventsource', 'long-polling', 'callback-polling'] });
  const off = client.on('state', (state: HalleyState) => console.log(state));
  await client.connect();
  const sub: Subscription = await client.subscribe('/chat/*', (data, message) => console.log(data, message.channel, message.position));
  const recovered: boolean = sub.recovered;
  const { position } = await client.publish('/chat/room1', { text: 'hi' });
  const reply = await client.call('/service/echo', { ping: 1 });
  const state: HalleyState = client.state;
  const transport: string | null = client.transport;
  console.log(recovered, position, reply, state, transport);
  await sub.unsubscribe();
  await client.disconnect();
  off();
}

// The README's "Sharing one connection between tabs": the same API, with share on, and a kept position.
export async function sharing(kept: string): Promise<void> {
  const client = new HalleyClient('/cometd', { share: { name: 'prices', mode: 'locks' } });
  await client.connect();
  const sub: Subscription = await client.subscribe('/prices/*', (data) => console.log(data), { position: kept });
  const role: 'worker' | 'leader' | 'follower' | null | undefined = client.sharing;
  console.log(role, sub.position);
  await client.disconnect();
}
