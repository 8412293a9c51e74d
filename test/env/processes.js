'use strict';
// Process helpers for the test tools.
const fs = require('node:fs');

// Whether any process of process group `pgid` is still alive (zombies count as gone).
function processGroupAlive(pgid) {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') return true;
    } catch {
      // exited meanwhile
    }
  }
  return false;
}

// The uid and gid of nobody, as Debian has them.
const NOBODY = 65534;

// argv run as nobody instead: setpriv drops root's uid, gid and supplementary groups first.
function asNobody(argv) {
  return ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv];
}

module.exports = { processGroupAlive, asNobody, NOBODY };
