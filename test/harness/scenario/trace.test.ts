import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS } from '../../../scenarios/index.js';
import { isTraceFormatError, loadTrace, readTrace } from '../../../src/harness/scenario/trace.js';

const HEADER = 'TIMESTAMP,ContextTokens,GeneratedTokens';

describe('readTrace', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-trace-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function traceFile(lines: string[]): Promise<string> {
    const file = join(dir, 'trace.csv');
    await writeFile(file, `${[HEADER, ...lines].join('\n')}\n`);
    return file;
  }

  it('returns offsets relative to the first row', async () => {
    const file = await traceFile([
      '2023-11-16 18:15:46.6805900,374,44',
      '2023-11-16 18:15:47.6806400,396,109',
      '2023-11-16 18:16:46.6805900,879,55',
    ]);
    const rows = await loadTrace(file);
    assert.deepEqual(
      rows.map((row) => row.offsetMs),
      [0, 1000.05, 60_000],
    );
    assert.deepEqual(rows[1], {
      line: 3,
      offsetMs: 1000.05,
      contextTokens: 396,
      generatedTokens: 109,
    });
  });

  it('divides offsets by the speed-up factor', async () => {
    const file = await traceFile([
      '2023-11-16 18:00:00.0000000,1,1',
      '2023-11-16 18:00:10.0000000,2,2',
    ]);
    const rows = await loadTrace(file, { speedUp: 4 });
    assert.deepEqual(
      rows.map((row) => row.offsetMs),
      [0, 2500],
    );
  });

  it('applies a window and a row limit', async () => {
    const file = await traceFile([
      '2023-11-16 18:00:00.0000000,1,1',
      '2023-11-16 18:00:05.0000000,2,2',
      '2023-11-16 18:00:06.0000000,3,3',
      '2023-11-16 18:00:07.0000000,4,4',
      '2023-11-16 18:00:20.0000000,5,5',
    ]);
    const windowed = await loadTrace(file, { window: { startSec: 5, durationSec: 10 } });
    assert.deepEqual(
      windowed.map((row) => [row.contextTokens, row.offsetMs]),
      [
        [2, 0],
        [3, 1000],
        [4, 2000],
      ],
    );
    const limited = await loadTrace(file, { window: { startSec: 5, durationSec: 10 }, limit: 2 });
    assert.equal(limited.length, 2);
  });

  it('names the file, line and field of a garbled row', async () => {
    const file = await traceFile([
      '2023-11-16 18:00:00.0000000,1,1',
      '2023-11-16 18:00:01.0000000,2,2',
      '2023-11-16 18:00:02.0000000,12x,3',
    ]);
    await assert.rejects(loadTrace(file), (error: unknown) => {
      assert.ok(isTraceFormatError(error));
      assert.equal(error.file, file);
      assert.equal(error.line, 4);
      assert.equal(error.field, 'ContextTokens');
      assert.equal(
        error.message,
        `${file}:4: invalid ContextTokens: expected a non-negative integer, got "12x"; write ` +
          'a whole number of tokens',
      );
      return true;
    });
  });

  it('rejects a timestamp without 7 fractional digits', async () => {
    const file = await traceFile(['2023-11-16 18:00:00.000,1,1']);
    await assert.rejects(loadTrace(file), (error: unknown) => {
      assert.ok(isTraceFormatError(error));
      assert.equal(error.line, 2);
      assert.equal(error.field, 'TIMESTAMP');
      return true;
    });
  });

  it('suggests the timestamp in format', async () => {
    const cases = [
      ['2023-11-16 18:00:00.5', '2023-11-16 18:00:00.5000000'],
      ['2023-11-16T18:00:00Z', '2023-11-16 18:00:00.0000000'],
    ];
    for (const [timestamp, fixed] of cases) {
      const file = await traceFile([`${timestamp},1,1`]);
      await assert.rejects(loadTrace(file), (error: unknown) => {
        assert.ok(isTraceFormatError(error));
        assert.equal(
          error.message,
          `${file}:2: invalid TIMESTAMP: expected "YYYY-MM-DD HH:MM:SS.fffffff", got ` +
            `"${timestamp}"; write "${fixed}", in UTC with 7 fractional digits`,
        );
        return true;
      });
    }
  });

  it('gives an example for another timestamp', async () => {
    const file = await traceFile(['16/11/2023 18:00,1,1']);
    await assert.rejects(loadTrace(file), (error: unknown) => {
      assert.ok(isTraceFormatError(error));
      assert.ok(
        error.message.endsWith(
          'got "16/11/2023 18:00"; write it in UTC with 7 fractional digits, such as ' +
            '"2023-11-16 18:15:46.6805900"',
        ),
        error.message,
      );
      return true;
    });
  });

  it('skips comment lines', async () => {
    const file = join(dir, 'synthetic.csv');
    const lines = [
      '# Synthetic: made-up rows, not recorded traffic.',
      HEADER,
      '2023-11-16 18:00:00.0000000,10,1',
      '  # a note between rows',
      '2023-11-16 18:00:00.5000000,20,2',
      'bad',
    ];
    await writeFile(file, `${lines.join('\n')}\n`);
    const rows: number[] = [];
    const offsets: number[] = [];
    await assert.rejects(
      async () => {
        for await (const row of readTrace(file)) {
          rows.push(row.contextTokens);
          offsets.push(row.offsetMs);
        }
      },
      (error: unknown) => {
        assert.ok(isTraceFormatError(error));
        // Line numbers count the comment lines, so they match the file.
        assert.equal(error.line, 6);
        return true;
      },
    );
    assert.deepEqual(rows, [10, 20]);
    assert.deepEqual(offsets, [0, 500]);
  });

  it('rejects a month out of range', async () => {
    for (const timestamp of ['2023-13-16 18:00:01.0000000', '2023-00-16 18:00:01.0000000']) {
      const file = await traceFile(['2023-11-16 18:00:00.0000000,1,1', `${timestamp},2,2`]);
      await assert.rejects(loadTrace(file), (error: unknown) => {
        assert.ok(isTraceFormatError(error), String(error));
        assert.equal(error.line, 3);
        assert.equal(error.field, 'TIMESTAMP');
        assert.equal(
          error.message,
          `${file}:3: invalid TIMESTAMP: "${timestamp}" is not a calendar time`,
        );
        return true;
      });
    }
  });

  it('rejects rows out of time order', async () => {
    const file = await traceFile([
      '2023-11-16 18:00:00.0000000,1,1',
      '2023-11-16 18:00:02.0000000,2,2',
      '2023-11-16 18:00:02.0000000,3,3',
      '2023-11-16 18:00:01.0000000,4,4',
    ]);
    await assert.rejects(loadTrace(file), (error: unknown) => {
      assert.ok(isTraceFormatError(error), String(error));
      assert.equal(error.line, 5);
      assert.equal(error.field, 'TIMESTAMP');
      assert.equal(
        error.message,
        `${file}:5: invalid TIMESTAMP: "2023-11-16 18:00:01.0000000" is earlier than ` +
          '"2023-11-16 18:00:02.0000000" on line 4; sort the rows by TIMESTAMP',
      );
      return true;
    });
  });

  it('rejects a row before the first row', async () => {
    // Offsets count from the first row, so without the order check this row was skipped silently.
    const file = await traceFile([
      '2023-11-16 18:00:05.0000000,1,1',
      '2023-11-16 18:00:01.0000000,2,2',
    ]);
    await assert.rejects(loadTrace(file), (error: unknown) => {
      assert.ok(isTraceFormatError(error), String(error));
      assert.equal(error.line, 3);
      return true;
    });
  });

  it('rejects a row with a missing field', async () => {
    const file = await traceFile(['2023-11-16 18:00:00.0000000,1']);
    await assert.rejects(loadTrace(file), (error: unknown) => {
      assert.ok(isTraceFormatError(error));
      assert.equal(
        error.message,
        `${file}:2: invalid row: expected 3 comma-separated fields, got 2 in ` +
          '"2023-11-16 18:00:00.0000000,1"; write it as TIMESTAMP,ContextTokens,GeneratedTokens, ' +
          'such as "2023-11-16 18:15:46.6805900,374,44", or start it with # to make it a comment',
      );
      return true;
    });
  });

  it('rejects an unexpected header', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, 'time,in,out\n');
    await assert.rejects(
      loadTrace(file),
      (error: unknown) => isTraceFormatError(error) && error.line === 1,
    );
  });

  it('streams the shipped conversation trace', async () => {
    let count = 0;
    let last = 0;
    for await (const row of readTrace('fixtures/traces/azure-llm-2023-conv.csv')) {
      assert.ok(row.offsetMs >= last);
      last = row.offsetMs;
      count += 1;
    }
    assert.equal(count, 19_366);
  });

  it('replays conv-replay at 2,200 requests/min or more', async () => {
    const spec = SCENARIOS['conv-replay'];
    assert.ok(spec?.arrival.kind === 'trace');
    const rows = await loadTrace(spec.arrival.file, {
      speedUp: spec.arrival.speedUp,
      window: { startSec: 0, durationSec: spec.durationSec * spec.arrival.speedUp },
    });
    const perMinute = new Map<number, number>();
    for (const row of rows) {
      const minute = Math.floor(row.offsetMs / 60_000);
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
    }
    assert.equal(rows.length, 14_176);
    assert.equal(perMinute.size, spec.durationSec / 60);
    for (const [minute, count] of perMinute) {
      assert.ok(count >= 2200, `minute ${minute} has ${count} requests`);
    }
  });
});
