// Real programs, as users run them, on the local disk and in a mount: each is a shell script
// run in a fresh directory that prints what it made in a normalised form (a manifest of types,
// modes, sizes, link counts, link targets, microsecond mtimes where the program keeps them,
// and content digests). The outputs on the two must be equal.

/** Shell functions every script may use. */
const PRELUDE = String.raw`
set -e
export LC_ALL=C TZ=UTC
# A small tree with what archivers and copiers must keep: modes, a symlink, a hard link, an
# empty directory, an executable, a name that is not UTF-8, and set times.
mktree() {
  mkdir -p "$1/sub/deeper" "$1/empty"
  printf 'hello\n' > "$1/a.txt"
  printf '#!/bin/sh\necho run\n' > "$1/run.sh"; chmod 755 "$1/run.sh"
  head -c 200000 /dev/zero | tr '\0' 'z' > "$1/sub/big.bin"
  printf 'secret\n' > "$1/sub/private"; chmod 600 "$1/sub/private"
  printf 'deep\n' > "$1/sub/deeper/d.txt"
  ln -s ../a.txt "$1/sub/link"
  ln "$1/a.txt" "$1/sub/hard"
  printf 'latin\n' > "$1/$(printf 'caf\351')"
  find "$1" -mindepth 1 -exec touch -h -d '2020-02-02 02:02:02.123456789' {} +
}
# Types, modes, sizes, link counts and targets of everything under $1, then content digests.
manifest() {
  ( cd "$1" && find . -mindepth 1 -printf '%y %m %s %n %p -> %l\n' | sort \
    && find . -type f -print0 | sort -z | xargs -0r sha256sum )
}
# mtimes to the microsecond (what the copier preserved), symlinks included.
mtimes() {
  ( cd "$1" && find . -mindepth 1 -printf '%p %T@\n' | sort | sed -E 's/(\.[0-9]{6})[0-9]*$/\1/' )
}
`;

export interface Program {
  name: string;
  /** Commands that must be installed, else the program is skipped (with the reason). */
  needs: string[];
  script: string;
}

export const programs: Program[] = [
  {
    name: 'git init, add, commit, status, checkout',
    needs: ['git'],
    script: String.raw`
export HOME="$PWD" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'
git init -q -b main repo && cd repo
git config user.name t && git config user.email t@example.org
mktree tree
git add . && git commit -qm first
printf 'changed\n' > tree/a.txt && rm tree/sub/deeper/d.txt && printf 'new\n' > tree/new.txt
git status --porcelain
git checkout -q -b side && git add -A && git commit -qm second
git checkout -q main
git status --porcelain
git log --all --format='%H %s'
git fsck --no-progress 2>&1
manifest tree
`,
  },
  {
    name: 'tar c and tar x',
    needs: ['tar'],
    script: String.raw`
mktree src
tar cf t.tar -C src .
# Names only: which of two hard links is archived first follows readdir order.
tar tf t.tar | sort
mkdir out && tar xpf t.tar -C out
manifest out
mtimes out
`,
  },
  {
    name: 'cp -a',
    needs: ['cp'],
    script: String.raw`
mktree src
cp -a src out
manifest out
mtimes out
`,
  },
  {
    name: 'rsync -a, then again with one change',
    needs: ['rsync'],
    script: String.raw`
mktree src
rsync -aH src/ out/
manifest out
mtimes out
printf 'edit\n' >> src/sub/deeper/d.txt
rsync -aHi src/ out/ | sort
manifest out
`,
  },
  {
    name: 'an editor-style save: temporary file, fsync, rename over',
    needs: ['sync'],
    script: String.raw`
printf 'v1\n' > doc.txt && chmod 640 doc.txt
before=$(stat -c %i doc.txt)
printf 'v2\n' > .doc.txt.swp
chmod --reference=doc.txt .doc.txt.swp
sync .doc.txt.swp
mv -f .doc.txt.swp doc.txt
sync .
cat doc.txt
stat -c '%a %h %s' doc.txt
[ "$(stat -c %i doc.txt)" != "$before" ] && echo 'a new inode'
ls -a
`,
  },
  {
    name: 'make of a small C project, then an incremental rebuild',
    needs: ['make', 'cc'],
    script: String.raw`
mkdir p && cd p
printf '#include <stdio.h>\nint twice(int);\nint main(void) { printf("%%d\\n", twice(21)); return 0; }\n' > main.c
printf 'int twice(int x) { return 2 * x; }\n' > util.c
printf 'app: main.o util.o\n\tcc -o app main.o util.o\n%%.o: %%.c\n\tcc -c $<\n' > Makefile
touch -d '2020-01-01' main.c util.c Makefile
make -s --no-print-directory 2>&1 | sort
./app
sleep 1
printf 'int twice(int x) { return x + x; }\n' > util.c
make --no-print-directory 2>&1
./app
make --no-print-directory 2>&1
ls
`,
  },
];

export function scriptOf(p: Program): string {
  return PRELUDE + p.script;
}
