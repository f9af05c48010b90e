import { MESSAGES, type MessageSchema } from '../../../../shared/protocol/codec/schema';

/** Message schema by tag: how the tests walk a message's fields (the codec itself needs none). */
export const MESSAGE_BY_TAG: ReadonlyMap<string, MessageSchema> = new Map(MESSAGES.map((m) => [m.tag, m]));
