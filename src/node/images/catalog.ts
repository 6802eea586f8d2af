/**
 * The image catalog: there is no container engine, so an image reference maps to local programs.
 * An entry gives the image's ENTRYPOINT and CMD (Kubernetes semantics apply: `command` replaces the
 * entrypoint, `args` replaces CMD, and `command` without `args` drops CMD), its PATH and a `prepare`
 * step that writes per-container files (e.g. nginx's config).
 *
 * Built-ins: nginx, busybox, curlimages/curl, agnhost, pause, clusterip/dns. User entries come from
 * `<stateDir>/images.json`, e.g.
 *   {"hotel-app:1.0.0": {"command": ["busybox", "httpd", "-f", "-p", "8080"], "args": [], "env": {"A": "1"}}}
 * An unknown image is a NodeError('IMAGE_NOT_FOUND'); the agent reports ErrImagePull / ImagePullBackOff.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NodeError } from '../errors.js';
import { DNS_NODE_FLAGS } from '../../dns/nodeflags.js';

/** What a container needs from its image. */
export interface ResolvedImage {
  /** Normalized reference, e.g. `docker.io/library/nginx:latest`. */
  ref: string;
  /** `clusterip://<ref>@sha256:<digest of the entry>` — stable per entry, shown as imageID. */
  imageID: string;
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  /** Writes per-container files under `dir` and may rewrite the argv (nginx gets its config path). */
  prepare?(dir: string, argv: string[]): string[];
}

/** A user entry in images.json. */
export interface UserImageEntry {
  command: string[];
  args?: string[];
  env?: Record<string, string>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Project root: src/node/images → ../../.. (also right from dist/node/images). */
const ROOT = path.resolve(HERE, '..', '..', '..');
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A file shipped beside this module (src/) — found from dist/ too. */
export function assetPath(name: string): string {
  const own = path.join(HERE, name);
  return fs.existsSync(own) ? own : path.join(ROOT, 'src', 'node', 'images', name);
}

/** Splits `registry/repo:tag@digest` into a canonical repo and a tag. */
export function parseImageRef(image: string): { repo: string; tag: string } {
  let ref = image.trim();
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  let tag = 'latest';
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) { tag = ref.slice(colon + 1); ref = ref.slice(0, colon); }
  ref = ref.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
  return { repo: ref, tag };
}

/** The catalog: built-ins plus the user's images.json (re-read on each lookup, so edits apply). */
export class ImageCatalog {
  /** A directory of busybox applet links (sh, wget, nslookup...) put first on PATH for busybox. */
  private readonly busyboxBin: string;

  constructor(private readonly stateDir: string, private readonly extra: Record<string, UserImageEntry> = {}) {
    this.busyboxBin = path.join(stateDir, 'images', 'busybox', 'bin');
  }

  /** The path of the user catalog file. */
  get userFile(): string {
    return path.join(this.stateDir, 'images.json');
  }

  /** Resolves an image reference or throws NodeError('IMAGE_NOT_FOUND') with how to add it. */
  resolve(image: string): ResolvedImage {
    const { repo, tag } = parseImageRef(image);
    const user = this.userEntries();
    const u = user[image] ?? user[`${repo}:${tag}`] ?? (tag === 'latest' ? user[repo] : undefined) ?? this.extra[image] ?? this.extra[repo];
    if (u) return this.entry(`${repo}:${tag}`, u.command, u.args ?? [], { PATH: `${BASE_PATH}:${this.ensureBusybox()}`, ...(u.env ?? {}) });
    const bb = (): string => `${this.ensureBusybox()}:${BASE_PATH}`;
    switch (repo) {
      case 'nginx':
        return { ...this.entry(`nginx:${tag}`, ['/docker-entrypoint.sh'], ['nginx', '-g', 'daemon off;'], { PATH: BASE_PATH }), prepare: prepareNginx };
      case 'busybox':
        return this.entry(`busybox:${tag}`, [], ['sh'], { PATH: bb() });
      case 'curlimages/curl':
        // The real image: ENTRYPOINT /entrypoint.sh, CMD curl; a first arg starting with '-' gets curl prepended.
        return this.entry(`curlimages/curl:${tag}`,
          ['sh', '-c', 'if [ "${1#-}" != "$1" ]; then set -- curl "$@"; fi; exec "$@"', '/entrypoint.sh'], ['curl'], { PATH: bb() });
      case 'agnhost':
      case 'e2e-test-images/agnhost':
      case 'registry.k8s.io/e2e-test-images/agnhost':
      case 'k8s.gcr.io/e2e-test-images/agnhost':
        return this.entry(`registry.k8s.io/e2e-test-images/agnhost:${tag}`, [process.execPath, assetPath('agnhost.mjs')], ['pause'], { PATH: bb() });
      case 'pause':
      case 'registry.k8s.io/pause':
      case 'k8s.gcr.io/pause':
        return this.entry(`registry.k8s.io/pause:${tag}`, ['sleep', 'infinity'], [], { PATH: BASE_PATH });
      case 'clusterip/dns': {
        // Run the DNS server from the same tree this agent runs from: compiled dist/ in an install,
        // the TypeScript sources through tsx when the agent itself runs from src/ (tests, development),
        // so a stale dist/ is never picked up. Its Node flags are the ones bench/dns measures with.
        const fromDist = path.relative(ROOT, HERE).split(path.sep)[0] === 'dist';
        const ep = fromDist
          ? [process.execPath, ...DNS_NODE_FLAGS, path.join(ROOT, 'dist', 'dns', 'main.js')]
          : [process.execPath, ...DNS_NODE_FLAGS, '--import', pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, path.join(ROOT, 'src', 'dns', 'main.ts')];
        return this.entry(`clusterip/dns:${tag}`, ep, [], { PATH: BASE_PATH, NODE_PATH: path.join(ROOT, 'node_modules') });
      }
      default:
        throw new NodeError('IMAGE_NOT_FOUND',
          `image "${image}" is not in the clusterip image catalog; there is no registry to pull from. ` +
          `Add it to ${this.userFile}, e.g. {"${image}": {"command": ["busybox", "httpd", "-f", "-p", "8080"]}}`);
    }
  }

  private entry(ref: string, entrypoint: string[], cmd: string[], env: Record<string, string>): ResolvedImage {
    const digest = createHash('sha256').update(JSON.stringify([ref, entrypoint, cmd])).digest('hex');
    return { ref, imageID: `clusterip://${ref}@sha256:${digest}`, entrypoint, cmd, env };
  }

  private userEntries(): Record<string, UserImageEntry> {
    try {
      return JSON.parse(fs.readFileSync(this.userFile, 'utf8')) as Record<string, UserImageEntry>;
    } catch {
      return {};
    }
  }

  /** Creates the applet link farm once (cheap afterwards). */
  private ensureBusybox(): string {
    if (fs.existsSync(path.join(this.busyboxBin, 'sh'))) return this.busyboxBin;
    fs.mkdirSync(this.busyboxBin, { recursive: true });
    const bin = ['/usr/bin/busybox', '/bin/busybox'].find((p) => fs.existsSync(p)) ?? 'busybox';
    const applets = ['sh', 'ash', 'wget', 'nslookup', 'hostname', 'nc', 'ping', 'cat', 'echo', 'ls', 'sleep', 'env', 'ps', 'httpd',
      'ip', 'ifconfig', 'route', 'netstat', 'telnet', 'traceroute', 'grep', 'sed', 'awk', 'head', 'tail', 'wc', 'date', 'id',
      'true', 'false', 'test', '[', 'printf', 'kill', 'mkdir', 'rm', 'touch', 'cp', 'mv', 'vi', 'top', 'uname', 'whoami',
      'seq', 'tr', 'cut', 'sort', 'uniq', 'xargs', 'timeout', 'du', 'df', 'free', 'find', 'tee', 'yes', 'dnsdomainname', 'pwd',
      'basename', 'dirname', 'expr', 'usleep', 'stty', 'reset', 'clear', 'more', 'less', 'arp', 'ping6', 'which', 'nproc'];
    for (const a of applets) {
      try { fs.symlinkSync(bin, path.join(this.busyboxBin, a)); } catch { /* exists */ }
    }
    return this.busyboxBin;
  }
}

/** Kubernetes command/args semantics over an image's ENTRYPOINT/CMD. */
export function containerArgv(img: ResolvedImage, command?: string[], args?: string[]): string[] {
  if (command?.length) return [...command, ...(args ?? [])];
  return [...img.entrypoint, ...(args?.length ? args : img.cmd)];
}

/**
 * nginx as the official image runs it: our stand-in for /docker-entrypoint.sh writes a per-container
 * config (port 80, the stock "Welcome to nginx!" page, temp dirs under the container dir, logs to
 * stdout/stderr) and execs the Debian nginx binary with it.
 */
function prepareNginx(dir: string, argv: string[]): string[] {
  const conf = path.join(dir, 'nginx');
  fs.mkdirSync(path.join(conf, 'tmp'), { recursive: true });
  const html = ['/usr/share/nginx/html', '/var/www/html'].find((d) => fs.existsSync(path.join(d, 'index.html'))) ?? path.join(conf, 'html');
  if (html.startsWith(conf)) {
    fs.mkdirSync(html, { recursive: true });
    fs.writeFileSync(path.join(html, 'index.html'),
      '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n' +
      '<p>If you see this page, the nginx web server is successfully installed and working.</p>\n</body>\n</html>\n');
  }
  const t = path.join(conf, 'tmp');
  fs.writeFileSync(path.join(conf, 'nginx.conf'), `user root;
worker_processes 1;
pid ${conf}/nginx.pid;
error_log stderr notice;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log /dev/stdout;
  client_body_temp_path ${t}/client; proxy_temp_path ${t}/proxy; fastcgi_temp_path ${t}/fastcgi;
  uwsgi_temp_path ${t}/uwsgi; scgi_temp_path ${t}/scgi;
  sendfile on;
  keepalive_timeout 65;
  server {
    listen 80;
    server_name localhost;
    location / { root ${html}; index index.html index.htm; }
  }
}
`);
  // '/docker-entrypoint.sh nginx -g "daemon off;"' → '/usr/sbin/nginx -e stderr -c <conf> -g "daemon off;"'
  const rest = argv[0] === '/docker-entrypoint.sh' ? argv.slice(1) : argv;
  if (rest[0] === 'nginx' || rest[0] === '/usr/sbin/nginx' || rest[0] === 'nginx-debug') {
    return ['/usr/sbin/nginx', '-e', 'stderr', '-c', path.join(conf, 'nginx.conf'), ...rest.slice(1)];
  }
  return rest;
}
