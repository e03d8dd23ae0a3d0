// Throwaway PostgreSQL clusters for tests: initdb in a temporary directory, listening only on a
// Unix socket inside it, run as an unprivileged user when the tests run as root (PostgreSQL refuses
// to run as root). tools/setup-postgres.sh installs the server and builds pgvector.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const bin = '/usr/lib/postgresql/15/bin';

/** Why a PostgreSQL test cannot run here, or null when it can. */
export function postgresUnavailable(): string | null {
  if (!fs.existsSync(path.join(bin, 'initdb'))) return 'PostgreSQL 15 is not installed (run tools/setup-postgres.sh)';
  if (!fs.existsSync('/usr/share/postgresql/15/extension/vector.control'))
    return 'pgvector is not installed (run tools/setup-postgres.sh)';
  return null;
}

export interface TestCluster {
  /** Connection string over the cluster's Unix socket, database `postgres`, user `postgres`. */
  url: string;
  dir: string;
  start(): void;
  stop(mode?: 'fast' | 'immediate'): void;
  /** Stops the server and removes its files. Idempotent. */
  destroy(): void;
}

function asServerUser(args: string[]): string[] {
  // As root: run the server binaries as `nobody`, which owns the cluster directory.
  return process.getuid?.() === 0 ? ['runuser', '-u', 'nobody', '--', ...args] : args;
}

function run(args: string[]): void {
  const [cmd, ...rest] = asServerUser(args);
  const r = spawnSync(cmd as string, rest, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr || r.stdout}`);
}

/** Creates and starts a cluster with the vector extension available. */
export function startCluster(): TestCluster {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-pg-'));
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'socket');
  fs.mkdirSync(socket);
  if (process.getuid?.() === 0) {
    execFileSync('chown', ['-R', 'nobody:nogroup', dir]);
    fs.chmodSync(dir, 0o755);
  }
  run([path.join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  let running = false;
  const cluster: TestCluster = {
    url: `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(socket)}`,
    dir,
    start() {
      if (running) return;
      run([
        path.join(bin, 'pg_ctl'),
        '-D',
        data,
        '-l',
        path.join(dir, 'server.log'),
        '-w',
        '-o',
        `-k ${socket} -c listen_addresses= -c fsync=off -c max_connections=200`,
        'start',
      ]);
      running = true;
    },
    stop(mode = 'fast') {
      if (!running) return;
      run([path.join(bin, 'pg_ctl'), '-D', data, '-m', mode, '-w', 'stop']);
      running = false;
    },
    destroy() {
      try {
        cluster.stop('immediate');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  cluster.start();
  return cluster;
}
