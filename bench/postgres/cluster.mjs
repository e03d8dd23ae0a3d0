// A throwaway PostgreSQL 15 cluster for the benchmark, as test/helpers/postgres.ts makes one for
// the tests (that one is TypeScript, which a plain `node` run of a benchmark cannot load): initdb
// in a temporary directory, a Unix socket only, run as `nobody` when we are root. Unlike the test
// cluster it keeps fsync on, so ingest rates include durable commits.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const bin = '/usr/lib/postgresql/15/bin';

function run(args) {
  const full = process.getuid?.() === 0 ? ['runuser', '-u', 'nobody', '--', ...args] : args;
  const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr || r.stdout}`);
}

/** Starts a cluster; returns its URL and a destroy(). `settings`: extra `-c name=value` pairs. */
export function startCluster(settings = []) {
  if (!fs.existsSync(path.join(bin, 'initdb')))
    throw new Error('PostgreSQL 15 is not installed: run tools/setup-postgres.sh');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-bench-pg-'));
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'socket');
  fs.mkdirSync(socket);
  if (process.getuid?.() === 0) {
    execFileSync('chown', ['-R', 'nobody:nogroup', dir]);
    fs.chmodSync(dir, 0o755);
  }
  run([path.join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8']);
  const options = [`-k ${socket}`, '-c listen_addresses=', ...settings.map((s) => `-c ${s}`)].join(' ');
  run([path.join(bin, 'pg_ctl'), '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-o', options, 'start']);
  return {
    url: `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(socket)}`,
    destroy() {
      try {
        run([path.join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
