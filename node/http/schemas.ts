// Shapes of the few replies and queries that exist only at the HTTP edge. Everything an adapter
// or the engine exchanges is defined once in protocol/schemas/api.ts and used from there.
import { ErrorReply } from '../../protocol/index.js'

/** Every route documents and serializes its refusals with the shared error shape. */
export const ERROR_REPLIES = { '4xx': ErrorReply, '5xx': ErrorReply } as const
