// Dead letters: events a consumer group gave up on, per topic; inspect, replay (after fixing the cause)
// or discard. Admins see their tenant's; operators' Admins see every tenant's.
import { useState } from 'preact/hooks';
import { Empty, ErrorNote, Json, When } from '../ui/common.tsx';
import { useConsole, useQuery } from '../ui/context.ts';

interface DeadLetter {
  id: string;
  topic: string;
  group: string;
  eventType: string | null;
  error: string;
  attempts: number;
  consumer: string;
  failedAt: string;
  event: string;
}

/** Topics of the platform's events, offered when the event-stream statistics are not visible. */
const KNOWN_TOPICS = [
  'task.status_changed',
  'approval.requested',
  'approval.decided',
  'approval.needed',
  'killswitch.changed',
  'document.uploaded',
];
const STREAMS = '{ eventStreams { topic deadLetters } }';
const LIST = `query ($topic: String!) { deadLetters(topic: $topic, first: 50) { items {
  id topic group eventType error attempts consumer failedAt event
} nextAfter } }`;

export function DeadLettersPage() {
  const streams = useQuery<{ eventStreams: { topic: string; deadLetters: number }[] }>(STREAMS);
  const counts = new Map<string, number>();
  for (const s of streams.data?.eventStreams ?? [])
    counts.set(s.topic, (counts.get(s.topic) ?? 0) + s.deadLetters);
  const topics = counts.size > 0 ? [...counts.keys()].sort() : KNOWN_TOPICS;
  const [topic, setTopic] = useState(KNOWN_TOPICS[0]!);
  return (
    <section aria-labelledby="dl-title">
      <h1 id="dl-title">Dead letters</h1>
      <p class="hint">
        Events a consumer gave up on after 3 deliveries. Fix the cause, then replay; discard what must not
        run.
      </p>
      <label for="dl-topic">Topic</label>{' '}
      <select id="dl-topic" value={topic} onChange={(e) => setTopic((e.target as HTMLSelectElement).value)}>
        {topics.map((t) => (
          <option value={t}>
            {t}
            {counts.has(t) ? ` (${counts.get(t)})` : ''}
          </option>
        ))}
      </select>
      <TopicLetters key={topic} topic={topic} />
    </section>
  );
}

function TopicLetters({ topic }: { topic: string }) {
  const { graph } = useConsole();
  const { data, error, loading, reload } = useQuery<{ deadLetters: { items: DeadLetter[] } }>(LIST, {
    topic,
  });
  const [open, setOpen] = useState<string>();
  const [outcome, setOutcome] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const items = data?.deadLetters.items ?? [];
  const act = (kind: 'replay' | 'discard', id: string) => {
    if (kind === 'discard' && !confirm(`Discard dead letter ${id}? It will never run.`)) return;
    const mutation =
      kind === 'replay'
        ? 'mutation ($topic: String!, $id: ID!) { replayDeadLetter(topic: $topic, id: $id) }'
        : 'mutation ($topic: String!, $id: ID!) { discardDeadLetter(topic: $topic, id: $id) }';
    graph.request(mutation, { topic, id }).then(() => {
      setOutcome(kind === 'replay' ? `Replayed ${id}.` : `Discarded ${id}.`);
      reload();
    }, setActionError);
  };
  return (
    <>
      {outcome && <p role="status">{outcome}</p>}
      {actionError !== undefined && <ErrorNote error={actionError} />}
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {!loading && !error && items.length === 0 && (
        <Empty title={`No dead letters on ${topic}.`}>
          <p>Every event of this topic was handled.</p>
        </Empty>
      )}
      <ul class="cards" aria-label={`dead letters of ${topic}`}>
        {items.map((d) => (
          <li class="card" key={d.id}>
            <h2>
              {d.eventType ?? d.topic} <span class="hint">{d.id}</span>
            </h2>
            <dl>
              <dt>Group</dt>
              <dd>{d.group}</dd>
              <dt>Error</dt>
              <dd class="error-text">{d.error}</dd>
              <dt>Attempts</dt>
              <dd>{d.attempts}</dd>
              <dt>Failed</dt>
              <dd>
                <When at={d.failedAt} /> on {d.consumer}
              </dd>
            </dl>
            <div class="actions">
              <button
                type="button"
                aria-expanded={open === d.id}
                onClick={() => setOpen(open === d.id ? undefined : d.id)}
              >
                {open === d.id ? 'Hide event' : 'Inspect event'}
              </button>
              <button type="button" class="primary" onClick={() => act('replay', d.id)}>
                Replay
              </button>
              <button type="button" class="danger" onClick={() => act('discard', d.id)}>
                Discard
              </button>
            </div>
            {open === d.id && <Json value={parseEvent(d.event)} label={`event ${d.id}`} />}
          </li>
        ))}
      </ul>
    </>
  );
}

function parseEvent(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
