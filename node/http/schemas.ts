// Shapes of the few replies and queries that exist only at the HTTP edge. What an adapter
// exchanges with the node is defined once in protocol/schemas/api.ts, what the engine answers the
// operator and buyers in node/core/api-schemas.ts; both are used from there.
import { ErrorReply } from '../../protocol/index.js'

/** Every route documents and serializes its refusals with the shared error shape. */
export const ERROR_REPLIES = { '4xx': ErrorReply, '5xx': ErrorReply } as const
