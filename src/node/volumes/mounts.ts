/**
 * Volume mounts of a container without a container image: the container runs on the machine's own
 * filesystem, in a mount namespace of its own (a child of its Pod's, private propagation), where
 * each volume's directory is bind-mounted at its mountPath — so the files are there for the
 * container and nowhere else, and the machine's filesystem is never changed.
 *
 * A mountPath whose parent directories do not exist (`/var/run/secrets/kubernetes.io/serviceaccount`:
 * there is no /run/secrets on the machine) cannot simply be created. Its deepest existing ancestor is
 * "shadowed" in the container's namespace instead: a tmpfs is mounted over it and every entry it
 * had is bound back (directories recursively, with their own mounts), through a file descriptor
 * opened on the directory before the tmpfs covered it; the missing directories are then made on the
 * tmpfs. When that ancestor is `/` itself (a mountPath like `/data`), the container gets a new root
 * instead: a tmpfs under its private directory with every top-level entry of `/` bound into it, and
 * the command runs chrooted there.
 *
 * `mountScript` is pure: it turns resolved mounts into the POSIX sh the runtime runs inside
 * `unshare --mount --propagation private` before exec'ing the container's command. `planMounts` does
 * the filesystem reads (which ancestor exists, its mode and owner).
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { dirname, posix } from 'node:path';

/** One mount of a container: a directory or file of the agent's → a path in the container. */
export interface ContainerMount {
  /** Absolute path on the machine (the volume's directory, or a file/dir inside it for subPath). */
  source: string;
  /** The container's mountPath (absolute). */
  target: string;
  readOnly: boolean;
}

/** A mount with its target resolved against the machine's filesystem. */
export interface PlannedMount extends ContainerMount {
  /** The target with symlinks of its existing part resolved (`/var/run/x` → `/run/x`). */
  resolved: string;
  /** Whether the source is a directory (else a file). */
  sourceIsDir: boolean;
  /** The deepest existing ancestor that must be shadowed to create the target; undefined when the target exists. */
  shadow?: { dir: string; mode: number; uid: number; gid: number };
}

/** Reads what `mountScript` needs to know about the machine's filesystem. */
export function planMounts(mounts: readonly ContainerMount[]): PlannedMount[] {
  const out: PlannedMount[] = [];
  for (const m of mounts) {
    if (!posix.isAbsolute(m.target)) throw new Error(`mountPath must be absolute: ${m.target}`);
    let existing = posix.normalize(m.target);
    const missing: string[] = [];
    for (;;) {
      try { lstatSync(existing); break; } catch { /* not there */ }
      missing.unshift(posix.basename(existing));
      existing = dirname(existing);
    }
    const real = realpathSync(existing);
    const resolved = missing.length ? posix.join(real, ...missing) : real;
    const sourceIsDir = statSync(m.source).isDirectory();
    let shadow: PlannedMount['shadow'];
    if (missing.length) {
      const st = statSync(real);
      shadow = { dir: real, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    }
    out.push({ ...m, resolved, sourceIsDir, ...(shadow ? { shadow } : {}) });
  }
  return out;
}

/** Single-quotes a word for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const FUNCTIONS = `set -e
# Every mount is -n (no utab: util-linux would create /run/mount in a /run just shadowed) and -c
# (no canonicalization: a source under /proc/$$/fd/9 must stay that path, not the covered one it names).
# bindback SRC DST: what SRC is, at DST (a symlink copied, a directory bound with its mounts, a file bound)
bindback() {
  if [ -L "$1" ]; then [ -e "$2" ] || [ -L "$2" ] || ln -s "$(readlink "$1")" "$2"
  elif [ -d "$1" ]; then mkdir -p "$2"; mount -n -c --rbind "$1" "$2"
  else [ -e "$2" ] || : > "$2"; mount -n -c --bind "$1" "$2"; fi
}
# shadow DIR MODE UID GID: DIR's entries as they were, on a tmpfs that can take new ones
shadow() {
  exec 9< "$1"
  mount -n -t tmpfs -o "mode=$2,uid=$3,gid=$4" tmpfs "$1"
  for e in /proc/$$/fd/9/* /proc/$$/fd/9/.[!.]* /proc/$$/fd/9/..?*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    bindback "$e" "$1/\${e##*/}"
  done
  exec 9<&-
}
# newroot DIR: a tmpfs at DIR holding every top-level entry of / (DIR's own copy inside it dropped)
newroot() {
  mount -n -t tmpfs -o mode=0755 tmpfs "$1"
  for e in /* /.[!.]* /..?*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    bindback "$e" "$1/\${e##*/}"
  done
  umount -n -l "$1$1" 2>/dev/null || true
}
# place SRC DST ISDIR RO: SRC bound at DST (made first), read-only when asked
place() {
  if [ "$3" = 1 ]; then mkdir -p "$2"; else mkdir -p "\${2%/*}"; [ -e "$2" ] || : > "$2"; fi
  mount -n --bind "$1" "$2"
  if [ "$4" = 1 ]; then mount -n -o remount,bind,ro "$2"; fi
}
`;

/**
 * The sh script that sets up `mounts` and then runs `"$@"` (the container's argv; `workingDir` is
 * re-entered after a chroot). `rootDir`: where a new root is built when a target's only existing
 * ancestor is `/` (a directory of the agent's, e.g. `<containerDir>/rootfs`). `readyFile`, when
 * given, is created once every mount is in place, right before the command runs (the runtime waits
 * for it: a container is not "running" before its volumes are there).
 */
export function mountScript(mounts: readonly PlannedMount[], rootDir: string, workingDir?: string, readyFile?: string): string {
  const lines = [FUNCTIONS];
  const needsRoot = mounts.some((m) => m.shadow?.dir === '/');
  const prefix = needsRoot ? rootDir : '';
  if (needsRoot) lines.push(`newroot ${shq(rootDir)}`);
  // Shadow each ancestor once, outermost first (a shadow of /run before one of /run/x).
  const shadows = new Map<string, NonNullable<PlannedMount['shadow']>>();
  for (const m of mounts) if (m.shadow && m.shadow.dir !== '/') shadows.set(m.shadow.dir, m.shadow);
  for (const s of [...shadows.values()].sort((a, b) => a.dir.length - b.dir.length)) {
    lines.push(`shadow ${shq(prefix + s.dir)} ${s.mode.toString(8).padStart(4, '0')} ${s.uid} ${s.gid}`);
  }
  // Parents before children, so a mount inside another volume's mount lands on top.
  for (const m of [...mounts].sort((a, b) => a.resolved.split('/').length - b.resolved.split('/').length)) {
    lines.push(`place ${shq(m.source)} ${shq(prefix + m.resolved)} ${m.sourceIsDir ? 1 : 0} ${m.readOnly ? 1 : 0}`);
  }
  if (readyFile) lines.push(`: > ${shq(readyFile)}`);
  if (needsRoot) {
    lines.push(`exec chroot ${shq(rootDir)} /bin/sh -c 'cd "$0" 2>/dev/null || cd /; exec "$@"' ${shq(workingDir ?? '/')} "$@"`);
  } else {
    if (workingDir) lines.push(`cd ${shq(workingDir)}`);
    lines.push('exec "$@"');
  }
  return lines.join('\n') + '\n';
}
