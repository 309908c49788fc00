import type mqtt from 'mqtt';

// Acknowledge QoS 1 messages later than mqtt.js would, without stopping it from reading on.
//
// mqtt.js reads the next packet only after `handleMessage`'s callback, and sends the PUBACK from
// that same callback: one message at a time, acknowledged as soon as it is "handled". A worker
// that commits many messages in one transaction needs the opposite: keep reading while earlier
// messages wait for their commit, and acknowledge each only once it is committed. So every PUBACK
// mqtt.js would send is swallowed here, and this module sends its own when `release` says the
// message is committed, in arrival order (MQTT 3.1.1, 4.6: PUBACKs go in the order the PUBLISHes
// came), so a released message waits for the ones before it.
//
// This wraps mqtt.js's internal `_sendPacket` (mqtt 5.16.0, pinned in package.json). The client
// must route every QoS 1 message through `hold` (its `handleMessage` does).
// A connection that closes takes its held messages with it: their PUBACKs are never sent (a
// message id may name another message on the next connection); the broker redelivers them on the
// next connection (persistent session) and the batch ledger recognises any already committed.

type SendPacket = (packet: mqtt.Packet, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

interface Held {
  messageId: number;
  epoch: number;
  released: boolean;
}

export interface HeldAcks {
  /** Registers a QoS 1 message as it arrives: its PUBACK waits for `release`. */
  hold(messageId: number): { release(): void };
  /** Messages held and not yet acknowledged. */
  size(): number;
}

export function holdAcks(client: mqtt.MqttClient): HeldAcks {
  const internals = client as unknown as { _sendPacket: SendPacket };
  const send = internals._sendPacket.bind(client);
  const queue: Held[] = [];
  let head = 0;
  let epoch = 0;

  function flush(): void {
    while (head < queue.length) {
      const h = queue[head] as Held;
      if (h.epoch === epoch) {
        if (!h.released) break;
        send({ cmd: 'puback', messageId: h.messageId } as mqtt.Packet);
      }
      head++;
    }
    if (head > 256 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  }

  internals._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd === 'puback') {
      cb?.(); // mqtt.js's own acknowledgement: dropped, and mqtt.js reads on
      return;
    }
    send(packet, cb, ...rest);
  };
  client.on('close', () => {
    epoch++;
    flush();
  });

  return {
    hold(messageId) {
      const h: Held = { messageId, epoch, released: false };
      queue.push(h);
      return {
        release() {
          h.released = true;
          flush();
        },
      };
    },
    size: () => queue.length - head,
  };
}
