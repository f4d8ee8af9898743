import assert from 'node:assert/strict';

import { Command, CommanderError } from 'commander';

import { registerLoadCommand } from '../../src/cli/commands/load.js';
import { parseExistingFile, parseOutputFile, parseSeed } from '../../src/cli/options.js';

/**
 * Parses `scalegate load <args>`, which must fail before the load starts, and returns the
 * error code commander raised and what it wrote to stderr.
 */
async function rejectedLoad(args: string[]): Promise<{ code: string; stderr: string }> {
  let stderr = '';
  const program = new Command('scalegate').exitOverride().configureOutput({
    writeErr: (text) => {
      stderr += text;
    },
    writeOut: () => undefined,
  });
  registerLoadCommand(program);
  let code = '';
  await assert.rejects(program.parseAsync(['node', 'scalegate', 'load', ...args]), (error) => {
    assert.ok(error instanceof CommanderError, String(error));
    code = error.code;
    return true;
  });
  return { code, stderr };
}

describe('load option errors', () => {
  it('names an unknown option before a missing --scenario', async () => {
    const { code, stderr } = await rejectedLoad(['--bogus']);
    assert.equal(code, 'commander.unknownOption');
    assert.equal(stderr, "error: unknown option '--bogus'\n");
  });

  it('names a missing --scenario', async () => {
    const { code, stderr } = await rejectedLoad(['--duration', '5']);
    assert.equal(code, 'commander.missingMandatoryOptionValue');
    assert.equal(stderr, "error: required option '--scenario <name>' not specified\n");
  });

  it('names an unknown option after --scenario', async () => {
    const { code, stderr } = await rejectedLoad(['--scenario', 'steady-chat', '--bogus']);
    assert.equal(code, 'commander.unknownOption');
    assert.equal(stderr, "error: unknown option '--bogus'\n");
  });
});

describe('load --help', () => {
  it('says where sync tasks run', () => {
    const program = new Command('scalegate');
    registerLoadCommand(program);
    const load = program.commands.find((command) => command.name() === 'load');
    assert.ok(load);
    const help = load.helpInformation().replace(/\s+/g, ' ');
    assert.match(help, / --topology <spec> with --platform: workers=<n> async task workers, /);
    assert.match(
      help,
      / enabled runs sync tasks on the serverless emulator, billed per invocation, disabled runs them in the gateway process, which no price covers /,
    );
  });
});

describe('parseOutputFile', () => {
  for (const value of ['', ' ', '\t']) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      assert.throws(() => parseOutputFile(value), {
        message: 'expected the path of a file, such as runs/load.json.',
      });
    });
  }

  it('returns a path in an existing folder', () => {
    assert.equal(parseOutputFile('runs-out.json'), 'runs-out.json');
  });
});

describe('parseExistingFile', () => {
  it('returns the path of a file', () => {
    assert.equal(parseExistingFile('fixtures/prices.yaml'), 'fixtures/prices.yaml');
  });

  it('rejects a directory', () => {
    assert.throws(() => parseExistingFile('fixtures'), {
      name: 'InvalidArgumentError',
      message: 'a directory, not a file; pass the path of a file in it.',
    });
  });
});

describe('parseSeed', () => {
  it('accepts 0', () => {
    assert.equal(parseSeed('0'), 0);
  });

  it('accepts the largest 32-bit seed', () => {
    assert.equal(parseSeed('4294967295'), 4_294_967_295);
  });

  it('rejects a seed past 32 bits', () => {
    // 4294967297 is 1 modulo 2^32, so it would run the schedule of seed 1.
    assert.throws(() => parseSeed('4294967297'), {
      message: 'expected an integer from 0 to 4294967295.',
    });
  });

  it('rejects a negative seed', () => {
    assert.throws(() => parseSeed('-1'), {
      message: 'expected an integer from 0 to 4294967295.',
    });
  });

  it('rejects a fraction', () => {
    assert.throws(() => parseSeed('1.5'), {
      message: 'expected an integer from 0 to 4294967295.',
    });
  });
});
