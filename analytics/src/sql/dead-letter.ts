/** A message that failed validation, as the dead-letter table stores it (`write-group.ts`). */
export interface DeadLetter {
  topic: string;
  mallId: string | undefined;
  gatewayId: string | undefined;
  reason: string;
  payload: string;
}
