/** The name prefix of tether's temporary files: every writer uses it, and the scanner skips it. */
export const TEMP_PREFIX = '.tether-tmp-';
