import type mqtt from 'mqtt';
import type { Logger } from 'pino';

/** The broker refused the gateway's credentials: retrying cannot help. */
export class GatewayAuthError extends Error {
  readonly code = 'GATEWAY_AUTH_REFUSED';
}

/**
 * Waits for the first CONNACK. Refused credentials are fatal (retrying cannot help); an
 * unreachable broker is not: the gateway starts offline and queues.
 */
export function firstConnection(client: mqtt.MqttClient, gatewayId: string, log: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('offline', onOffline);
    };
    const onConnect = () => {
      done();
      resolve();
    };
    const onError = (err: Error & { code?: number | string }) => {
      // CONNACK return codes 4 (bad user name or password) and 5 (not authorized).
      if (err.code === 4 || err.code === 5) {
        done();
        client.end(true);
        reject(
          new GatewayAuthError(`the broker refused gateway ${gatewayId}: ${err.message}`, { cause: err }),
        );
      }
    };
    const onOffline = () => {
      done();
      log.warn('broker unreachable at start: the gateway starts offline and queues batches');
      resolve();
    };
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('offline', onOffline);
  });
}
