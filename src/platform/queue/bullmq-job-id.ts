/**
 * Maps queue ids to BullMQ job ids. BullMQ rejects ids that contain ':' or
 * parse as integers, so every id is percent-encoded behind a fixed prefix.
 */
const PREFIX = 'id-';

export function toBullmqJobId(id: string): string {
  return `${PREFIX}${encodeURIComponent(id)}`;
}

export function fromBullmqJobId(jobId: string | undefined): string {
  if (jobId === undefined || !jobId.startsWith(PREFIX)) {
    return jobId ?? '';
  }
  return decodeURIComponent(jobId.slice(PREFIX.length));
}
