// Connects to the channel named in the URL's hash and records what arrives and what fails.
window.got = [];
window.failures = [];
$(document).on('hello.comet', function (event, data) { window.got.push(data); });
$(document).on('comet.error', function (event, info) { window.failures.push(info.message); });
$.comet.connect('/sub/' + location.hash.slice(1));
