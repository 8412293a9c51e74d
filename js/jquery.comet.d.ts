// Type definitions for jquery.comet (dist/jquery.comet.js).
// They describe the public API the jQuery face (js/src/, bundled into the file) puts on jQuery: $.comet,
// its options, the connection object and the events triggered on document, and what
// `require("jquery.comet")` returns: attach(jQuery), for bundlers.
/// <reference types="jquery" />

declare global {
    namespace JQueryComet {
        /**
         * A connection's state; every change fires `comet.state`. `'connecting'`: no poll has
         * been seen to be accepted since connecting or the last failure. `'open'`: the server
         * answered a poll or held one for 1 s without failing (a quiet channel is open).
         * `'waiting'`: a failure or a 304; the retry timer runs.
         */
        type State = 'connecting' | 'open' | 'waiting' | 'offline' | 'suspended' | 'closed';

        /** The parts of jqXHR that error handlers use, describing the failed poll. */
        interface XhrLike {
            readonly readyState: 4;
            /** HTTP status; 0 for a network failure (refused, reset, cut). */
            readonly status: number;
            readonly statusText: string;
            readonly responseText: string;
            getResponseHeader(name: string): string | null;
            getAllResponseHeaders(): string;
        }

        /** `"error"`: an HTTP or network failure; `"parsererror"`: a body declared as JSON that does not parse. */
        type TextStatus = 'error' | 'parsererror';

        /** Request headers: names and values (numbers are turned into strings; null or undefined leaves one out). */
        type Headers = Record<string, string | number | null | undefined>;

        /** What a `headers` function is called with before every poll. */
        interface HeadersInfo {
            /** The absolute URL about to be polled. */
            url: string;
            /**
             * true after the server refused the last poll with 401 or 403: return fresh credentials (the poll
             * goes at once, once per run of failures; a second refusal takes the slow path).
             */
            refresh: boolean;
        }

        /** Anything with a `then`: a native promise, or jQuery's `$.get(...)`/`$.Deferred().promise()`. */
        interface Thenable<T> {
            then(resolve: (value: T) => unknown, reject: (reason: unknown) => unknown): unknown;
        }

        type HeadersFunction = (this: Connection, info: HeadersInfo) => Headers | null | undefined | Thenable<Headers | null | undefined>;

        /**
         * Why comet.error fired: `"server"` (a response, or none: refused, reset, cut, blocked); `"refresh"` (a 401/403:
         * asking the `headers` function for fresh credentials and polling again at once); `"headers"` (the `headers`
         * function threw, rejected, or gave something that is not headers); `"module"` (the WebAssembly module could not start).
         */
        type ErrorCause = 'server' | 'refresh' | 'headers' | 'module';

        interface Options {
            /** ms a long poll may stay open before it is aborted and sent again (not an error); 0: never. Default 60000. */
            timeout?: number;
            /**
             * Called for every failure that is not a timeout, before `comet.error`. `errorThrown` is
             * the status text for `"error"` and a `SyntaxError` for `"parsererror"`. `this` is the connection.
             */
            onError?: ((this: Connection, xhr: XhrLike, textStatus: TextStatus, errorThrown: string | SyntaxError | unknown) => void) | null;
            /** HTTP method of the polls. Default 'GET'. */
            requestMethod?: string;
            /** Key of a JSON message that names its type. Default 'type'. */
            typeAttr?: string;
            /** Key whose value is handed to handlers; null hands over the whole message. Default 'data'. */
            dataAttr?: string | null;
            /** The first backoff step after a failure, in ms (at least 1). Default 1000. */
            retryDelay?: number;
            /** The backoff's cap in ms (at least retryDelay). Default 30000. */
            maxRetryDelay?: number;
            /** A larger response is abandoned, reported and skipped (1024 to 1073741824). Default 16 MiB. */
            maxResponseBytes?: number;
            /** Log each request, response and state change to the console, and failures as warnings. Default false. */
            debug?: boolean;
            /**
             * One poll for all tabs of the origin that connect to the same URLs with the same options: one tab
             * polls and hands every message to the others (Web Locks + BroadcastChannel; a poll per tab where
             * they are missing). Default false.
             */
            shared?: boolean;
            /** Keep the cursor in sessionStorage ('session') or localStorage ('persist') and continue from it after a reload. Default null. */
            resume?: 'session' | 'persist' | null;
            /**
             * Request headers for every poll: an object, or a function called before every poll that returns them
             * or a promise of them (a poll waits for them). `$.ajaxSettings.headers` (`$.ajaxSetup`), read before
             * each poll, are the defaults under them. A function that throws or rejects is reported (comet.error,
             * cause "headers") and asked again after the backoff. Cookie, Host, If-None-Match and other names the
             * browser or the cursor owns are refused. Default null.
             */
            headers?: Headers | HeadersFunction | null;
            /** Send cookies and HTTP auth with cross-origin polls. Default null: `$.ajaxSettings.xhrFields.withCredentials` at connect(), else false. */
            withCredentials?: boolean | null;
            /**
             * Send the cursor as Nchan's `last_event_id=<seconds>:<tag>` query parameter instead of If-None-Match and
             * If-Modified-Since, so that a cross-origin poll without custom headers needs no CORS preflight. Nchan only.
             * Default false.
             */
            cursorInQuery?: boolean;
        }

        /** The options after merging over $.comet.defaults and checking. */
        interface Settings {
            timeout: number;
            onError: Options['onError'];
            requestMethod: string;
            typeAttr: string;
            dataAttr: string | null;
            retryDelay: number;
            maxRetryDelay: number;
            maxResponseBytes: number;
            debug: boolean;
            shared: boolean;
            resume: 'session' | 'persist' | null;
            headers: Headers | HeadersFunction | null;
            withCredentials: boolean;
            cursorInQuery: boolean;
        }

        interface Connection {
            /** The absolute URL polled now (it changes when a failure moves to the next of `urls`). */
            readonly url: string;
            /** Every URL given, absolute, in order of preference. */
            readonly urls: readonly string[];
            /** With the shared option: whether this tab polls for the others or follows; false otherwise. */
            readonly shared: false | 'leader' | 'follower';
            readonly options: Readonly<Settings>;
            readonly state: State;
            /** Aborts the poll in flight and stops for good; calling it again does nothing. */
            close(): Connection;
        }

        interface Static {
            readonly version: string;
            /** Defaults for every later connect(); change them in place. */
            defaults: Settings;
            /** Resolves when the WebAssembly module is ready (connect() need not wait for it). */
            readonly ready: Promise<Static>;
            /**
             * Starts polling `url`, or the first of several instances of one server (sharing their message store),
             * moving to the next when one fails. Throws a TypeError or RangeError naming a bad option; nothing
             * starts then.
             */
            connect(url: string | readonly string[], options?: Options): Connection;
            /** Closes every connection. */
            disconnect(): void;
            /** The open connections. */
            connections(): Connection[];
        }

        /** `info` of comet.open and comet.close. */
        interface ConnectionInfo {
            connection: Connection;
            url: string;
        }

        /** `info` of comet.state. */
        interface StateInfo extends ConnectionInfo {
            from: State;
            to: State;
        }

        /** `info` of comet.error. */
        interface ErrorInfo extends ConnectionInfo {
            status: number;
            statusText: string;
            textStatus: TextStatus;
            errorThrown: string | SyntaxError | Error;
            /** One readable sentence: the URL, what happened and what happens next. */
            message: string;
            /** ms until the next poll. */
            retryIn: number;
            cause: ErrorCause;
            /** cause === "refresh": a 401/403 made the connection ask for fresh headers; it polls again at once. */
            refreshing: boolean;
            xhr: XhrLike;
        }

        /**
         * Handlers, as bound with $(document).on(...) / .bind(...):
         * - `<type>.comet` and `comet.message`: `MessageHandler` (type is null for untyped messages);
         * - `comet.error`: `InfoHandler<ErrorInfo>`;
         * - `comet.open`, `comet.close`: `InfoHandler<ConnectionInfo>`;
         * - `comet.state`: `InfoHandler<StateInfo>`.
         */
        type MessageHandler<Data = any> = (event: JQuery.TriggeredEvent, data: Data, type: string | null) => void;
        type InfoHandler<Info> = (event: JQuery.TriggeredEvent, info: Info) => void;
    }

    interface JQueryStatic {
        comet: JQueryComet.Static;
    }
}

/** Installs $.comet on the given jQuery (once) and returns it; a script tag does this itself. */
declare function attach<T extends JQueryStatic>(jQuery: T): T;
export = attach;
