// The first words of the commands the thin command line runs (cli/thin.ts): those that only
// ask a volume's daemon, --version and --help. The launcher (cli/launch.ts) reads the thin
// bundle for these alone; every other command starts the full one at once.
export const THIN_WORDS = [
  'status',
  'offline',
  'online',
  'sync',
  'why',
  'pin',
  'unpin',
  'pins',
  'mode',
  'events',
  'unmount',
  'hoard',
  '--version',
  '-v',
  '--help',
  '-h',
] as const;

export type ThinWord = (typeof THIN_WORDS)[number];

export const isThinWord = (word: string | undefined): word is ThinWord =>
  (THIN_WORDS as readonly (string | undefined)[]).includes(word);
