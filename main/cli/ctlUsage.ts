import { DEFAULT_SERVER } from './ctlArgs';

/** The text of `ctl --help`. */
export const CTL_USAGE = `Usage: npm run ctl -- <command> [options]

Scripting client for descartes agent servers. Prints one JSON document on stdout; errors are
one line on stderr.

Queries (always sent directly; fail fast when the server is offline):
  health                                  health_check_response
  list [--status S] [--limit N]           list_agents_response
  query <agent> [--stream stdout|stderr|both] [--filter REGEX] [--limit N] [--offset N]
                                          output_query_response (non-destructive)

Commands (sent directly, or through the durable queue with --queue):
  spawn --backend B --task T [--name N] [--model M] [--context C] [--system-prompt P]
        [--tool-level L] [--env K=V]... [--meta K=V]... [--timeout SECS]
  control <agent> <pause|resume|stop|kill|signal|write_stdin|read_stdout|read_stderr|
                   get_status|custom_action|query_output|stream_logs>
        [--payload JSON | --force | --signal interrupt|terminate|kill|stop|continue
         | --data TEXT | --line TEXT]        (--force: pause/resume by SIGSTOP/SIGCONT;
                                             --line adds a newline to --data)
  action <agent> <name> [--params JSON] [--timeout SECS]
  batch <command> <agent>... [--fail-fast] [--payload JSON | --force]

The local queue (in --data-dir; refused while a running console owns it):
  queue list [--state S[,S…]|all] [--limit N]    pending commands (default states queued,sending)
  queue history [--limit N]                       settled commands, newest first
  queue cancel <request_id>                       withdraw a queued (or outcome-unknown) command
  queue retry <request_id>                        queue an ended command again
  queue discard <entry|request_id>                delete a quarantined command for good
  queue dismiss <notice>                          delete a notice about a repaired database
  queue flush [--wait SECS]                       deliver what is queued, wait up to --wait
  (with --server, queue commands act on that server's commands only)

  Commands the queue cannot read (damaged on disk) are kept in quarantine, never sent;
  queue list shows them under "quarantined" with the reason. A database file that is no
  usable database is moved aside (commands.sqlite.corrupt-<time>, every readable command
  copied into a new one); "notices" says where it went until dismissed. Either is also said
  on stderr by the run that found it.

Keys:
  key                                     this console's public key, its fingerprint and the
                                          line to run on a server to allow it:
                                          {"public_key","fingerprint","allow_command","key_file"}

Security: ctl speaks CurveZMQ (encrypted, the server authenticated by its pinned public key,
ctl by the console's client key in --data-dir, created on first use) when
  - --server-key KEY is given, or
  - the console has a profile for --server that pins a key (e.g. the local server it starts).
Otherwise it talks plain ZMTP (what Rust descartes 1.0.0 servers and a server started with
--insecure speak) and says so once on stderr. A server that refuses the handshake (our key not
allowed, a wrong pinned key, plain vs encrypted) ends the run with exit 3 and a line saying
what to do, e.g. the \`npm run server -- allow …\` line to run on the server.

Options:
  --server tcp://HOST:PORT  command endpoint (default $DESCARTES_SERVER; else, for direct
                            commands, the local server the console started, with its key;
                            else ${DEFAULT_SERVER})
  --server-key KEY          the server's public key (40 Z85 characters, as \`npm run server -- key\`
                            prints it): connect encrypted and refuse any server without it.
                            With --queue it must match the console's profile for --server
  --queue                   store the command durably first, then deliver it; if it is not
                            delivered within --wait it stays queued, and the next process that
                            owns the queue (the console, another ctl --queue, ctl queue flush)
                            delivers it, once
  --data-dir DIR            the console's data directory: the queue, the server profiles and the
                            client key (default $DESCARTES_DATA_DIR or the console's app-data
                            directory)
  --wait SECS               --queue: how long to wait for delivery (default 10)
  --expires SECS            --queue: never send it after this many seconds from now
  --max-pending N           --queue: pending commands allowed per server (default 1000)
  --connect-timeout SECS    how long to wait for the server's first health reply (default 3)
  --reply-timeout SECS      reply timeout (default 30; spawn/action add their --timeout, batch x2)
  --pretty                  indent the JSON
  --help                    this text

Output:
  without --queue: the server's reply, e.g. {"type":"command_response","success":true,...};
    when no reply came in time: {"status":"unknown","request_id":...,"reason":...}
  with --queue: {"status":"done"|"queued"|"unknown"|"failed","command":{...},"reply":{...}}
  queue list: {"commands":[...],"quarantined":[{"entry","reason","id","server",...,"raw"}],
    "notices":[{"id","message","movedTo",...}]}; queue history: {"commands":[...]};
  queue cancel/retry: {"command":{...}}; queue discard: {"discarded":{...}};
  queue dismiss: {"dismissed":N};
  queue flush: {"pending":N,"commands":[...]}. Commands carry "server": their endpoint.

Exit codes:
  0  done, and the server reported success
  1  error: the server answered success=false (its reply is printed), or a local error
     (queue full, queue locked by a running console, unknown request id, the disk is
     full, ...)
  2  usage error
  3  offline: no answer within --connect-timeout, or the server refused the handshake;
     nothing was sent (without --queue)
  4  not confirmed: queued but not delivered within --wait, or sent without a reply in
     time (outcome unknown: the server may have run it)
`;
