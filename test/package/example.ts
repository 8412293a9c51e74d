// A user's TypeScript, type-checked against the installed package's types (package.test.js).
import $ = require('jquery');
import attach = require('jquery.comet');

attach($);

interface Feed {
    text: string;
}

const connection: JQueryComet.Connection = $.comet.connect('/activity?channel=tweets', {
    timeout: 30000,
    dataAttr: null,
    onError(xhr, textStatus, errorThrown) {
        console.log(this.url, this.state, xhr.status, xhr.getResponseHeader('Retry-After'), textStatus, errorThrown);
    },
});

const onFeed: JQueryComet.MessageHandler<Feed> = (event, data, type) => {
    console.log(data.text.toUpperCase(), type === null ? 'untyped' : type.length);
};
$(document).on('feed.comet', onFeed);

const onError: JQueryComet.InfoHandler<JQueryComet.ErrorInfo> = (event, info) => {
    console.log(info.message, info.retryIn.toFixed(0), info.textStatus === 'parsererror', info.connection.url);
};
$(document).on('comet.error', onError);

const onState: JQueryComet.InfoHandler<JQueryComet.StateInfo> = (event, info) => {
    const next: JQueryComet.State = info.to;
    console.log(info.from, next);
};
$(document).on('comet.state', onState);

const everywhere = $.comet.connect(['https://a.example/sub/x', 'https://b.example/sub/x'], { shared: true, resume: 'persist' });
const role: false | 'leader' | 'follower' = everywhere.shared;
console.log(role, everywhere.urls.length, everywhere.options.resume);

// Authentication: a token per poll (fresh after a 401/403), jQuery's promise or a native one.
const authed = $.comet.connect('https://push.example.com/sub/x', {
    withCredentials: true,
    cursorInQuery: true,
    headers(info) {
        const url: string = info.url;
        return $.getJSON('/token', { refresh: info.refresh, url }).then((t: { token: string }) => ({ Authorization: `Bearer ${t.token}` }));
    },
});
$.comet.connect('/x', { headers: () => Promise.resolve({ 'X-Version': 3 }) });
$.comet.connect('/x', { headers: { Authorization: 'Bearer abc' } });
$(document).on('comet.error', (event, info: JQueryComet.ErrorInfo) => {
    const cause: JQueryComet.ErrorCause = info.cause;
    console.log(cause, info.refreshing, authed.options.withCredentials);
});

$.comet.defaults.retryDelay = 500;
$.comet.ready.then((comet) => comet.connections().forEach((c) => c.close()));
connection.close();
$.comet.disconnect();

// The types must also refuse what the library refuses.
// @ts-expect-error timeout is a number of milliseconds
$.comet.connect('/x', { timeout: '5000' });
// @ts-expect-error no such option
$.comet.connect('/x', { retry: 1000 });
// @ts-expect-error state is read-only
connection.state = 'open';
// @ts-expect-error not a state
const wrong: JQueryComet.State = 'opened';
// @ts-expect-error resume is 'session', 'persist' or null
$.comet.connect('/x', { resume: 'local' });
// @ts-expect-error header values are strings or numbers
$.comet.connect('/x', { headers: { Authorization: true } });
// @ts-expect-error withCredentials is a boolean
$.comet.connect('/x', { withCredentials: 'yes' });
