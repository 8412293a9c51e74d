'use strict';
// What the fault tools share about sockets.

// Ends a socket abruptly: a TCP reset (RST) where Node can send one, else a plain destroy.
function resetSocket(socket) {
  if (!socket || socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function' && !socket.connecting) {
    try { socket.resetAndDestroy(); return; } catch (error) { /* fall through */ }
  }
  socket.destroy();
}

module.exports = { resetSocket };
