import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  createGateFolder,
  GATE_FOLDER_MARKER,
  GateFolderLinkError,
  prepareGateFolder,
} from '../../../src/harness/gate/folder.js';
import { replaceFile } from '../../../src/harness/replace-file.js';

describe('gate folder links', () => {
  let dir: string;
  let gateDir: string;
  let outside: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-gate-folder-'));
    gateDir = join(dir, 'gate');
    outside = join(dir, 'outside');
    await mkdir(gateDir);
    await mkdir(outside);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a linked marker file', async () => {
    const victim = join(outside, 'victim.txt');
    await writeFile(victim, 'kept\n');
    await symlink(victim, join(gateDir, GATE_FOLDER_MARKER));

    await assert.rejects(prepareGateFolder(gateDir), (error: unknown) => {
      assert.ok(error instanceof GateFolderLinkError, String(error));
      assert.deepEqual(error.links, [GATE_FOLDER_MARKER]);
      assert.equal(
        error.message,
        `gate folder ${gateDir} contains .scalegate-gate, a symbolic link that a gate run ` +
          'would write through. Delete it, or pass a new or empty folder.',
      );
      return true;
    });
    assert.equal(await readFile(victim, 'utf8'), 'kept\n');
  });

  it('rejects linked report folders', async () => {
    await writeFile(join(gateDir, GATE_FOLDER_MARKER), '');
    await symlink(outside, join(gateDir, 'reports'));
    await symlink(join(outside, 'missing'), join(gateDir, 'comment.md'));

    await assert.rejects(prepareGateFolder(gateDir, '--gate-dir gate'), (error: unknown) => {
      assert.ok(error instanceof GateFolderLinkError, String(error));
      assert.deepEqual(error.links, ['reports', 'comment.md']);
      assert.equal(
        error.message,
        '--gate-dir gate contains reports and comment.md, symbolic links that a gate run would ' +
          'write through. Delete them, or pass a new or empty folder.',
      );
      return true;
    });
    // Nothing is deleted when the check fails.
    assert.ok((await lstat(join(gateDir, 'comment.md'))).isSymbolicLink());
  });

  it('accepts a linked gate folder', async () => {
    const linked = join(dir, 'linked-gate');
    await symlink(gateDir, linked);

    await prepareGateFolder(linked);
    await createGateFolder(linked);

    const marker = await readFile(join(gateDir, GATE_FOLDER_MARKER), 'utf8');
    assert.match(marker, /^scalegate gate writes its reports/);
  });

  it('marker write replaces a link', async () => {
    const victim = join(outside, 'victim.txt');
    await writeFile(victim, 'kept\n');
    await symlink(victim, join(gateDir, GATE_FOLDER_MARKER));

    await createGateFolder(gateDir);

    assert.equal(await readFile(victim, 'utf8'), 'kept\n');
    const marker = await lstat(join(gateDir, GATE_FOLDER_MARKER));
    assert.equal(marker.isSymbolicLink(), false);
    assert.equal(marker.isFile(), true);
  });

  it('replaceFile leaves no temporary file', async () => {
    const path = join(gateDir, 'comment.md');
    await writeFile(path, 'earlier\n');

    await replaceFile(path, 'later\n');

    assert.equal(await readFile(path, 'utf8'), 'later\n');
    assert.deepEqual(await readdir(gateDir), ['comment.md']);
  });
});
