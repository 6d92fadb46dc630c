// What the askStream tests share: a real graphql-ws client and the shape of the events they select.
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** One askStream event as the tests select it: an AnswerPiece, or the final Answer's fields. */
export interface AskStreamEvent {
  __typename: 'AnswerPiece' | 'Answer';
  text: string;
  model?: string;
  unanswered?: boolean;
  traceId?: string | null;
  usage?: { promptTokens: number; completionTokens: number };
  citations?: {
    n: number;
    quote: string;
    chunk: { id?: string; text: string };
    document: { id: string; title: string };
  }[];
  timings?: { stage: string; ms: number }[];
}

/** A graphql-ws client of `token`'s caller on the gateway's WebSocket endpoint (no retries). */
export function askStreamClient(wsUrl: string, token: string): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
}
