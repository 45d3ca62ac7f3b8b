// starmark serve only: never part of a built site. The server adds this script to the HTML pages
// it serves; it waits (long-poll) on the server's event path and reloads the page when a rebuild
// finishes, so the page shows the new output, or the build error until it is fixed.
(function () {
  'use strict';
  var me = document.currentScript;
  var events = me.getAttribute('data-events');
  var generation = me.getAttribute('data-generation');
  function poll() {
    fetch(events + '?since=' + encodeURIComponent(generation), { cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (state) {
        if (String(state.generation) !== generation) {
          location.reload();
        } else {
          poll();
        }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
}());
