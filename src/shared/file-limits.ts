/** Files one message may carry: the HTTP send schema (messages/body-schemas.ts), the send service (files/attach.ts) and the WebSocket frame (shared/protocol.ts says 10 too). */
export const MAX_FILES_PER_MESSAGE = 10;
