using System.Buffers;
using System.Collections.Concurrent;
using Portcullis.Server.Directory;

namespace Portcullis.Server.Delivery;

/// <summary>How a batch pays for durability (measured on ext4 in bench/RESULTS.md, "Maildir batch durability").</summary>
public enum MaildirBatchDurability
{
    /// <summary>Each copy on its own: write, fsync the file, rename into new/, fsync new/. Two fsyncs per copy.</summary>
    PerMessage,

    /// <summary>Write and fsync all files concurrently (the filesystem merges the flushes), rename all, then fsync each distinct new/ once.</summary>
    ParallelFsync,

    /// <summary>Write all files, one syncfs(2) of the data directory's filesystem, rename all, then fsync each distinct new/ once (Linux).</summary>
    SyncFs,
}

/// <summary>
/// Delivers messages into standard Maildirs that Dovecot reads:
/// <c>&lt;data_dir&gt;/mail/&lt;domain&gt;/&lt;localpart&gt;/Maildir/{tmp,new,cur}</c>.
/// Each copy is written in tmp/, made durable, renamed into new/, and new/ is fsynced, so once a call
/// returns Delivered the message survives a crash or power loss (DESIGN principle 4).
/// Exactly once: a copy whose unique name is already in new/ or cur/ (as name or name:2,flags after
/// a mail client read it) is not written again, so redelivering after a crash between the rename and
/// the queue's bookkeeping does not duplicate it.
/// Directories are created 0700 and files 0600: mail is private to the server's user (and Dovecot's,
/// when it runs as the same user).
/// </summary>
public sealed class MaildirWriter
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly string _dataDir;
    private readonly bool _unixLineEndings;
    private readonly ConcurrentDictionary<string, bool> _ready = new(StringComparer.Ordinal);

    /// <param name="dataDir">the data directory; mailboxes go under its mail/ subdirectory</param>
    /// <param name="unixLineEndings">
    /// store lines ending in LF, as Postfix's local(8) and qmail write Maildir (CRLF from the wire becomes LF);
    /// false keeps CRLF, which Dovecot also reads.
    /// </param>
    /// <param name="batchDurability">how <see cref="DeliverBatchAsync"/> makes a batch durable</param>
    public MaildirWriter(string dataDir, bool unixLineEndings = true, MaildirBatchDurability batchDurability = MaildirBatchDurability.ParallelFsync)
    {
        _dataDir = Path.GetFullPath(dataDir);
        _unixLineEndings = unixLineEndings;
        BatchDurability = batchDurability;
        MailRoot = Path.Combine(_dataDir, "mail");
    }

    public string MailRoot { get; }

    public MaildirBatchDurability BatchDurability { get; }

    /// <summary>The Maildir of a mailbox: &lt;data_dir&gt;/mail/&lt;domain&gt;/&lt;localpart&gt;/Maildir.</summary>
    public string MaildirPath(string mailbox)
    {
        // The directory's own validation: no '/', no leading dot, no '..', lower-case. A mailbox name can
        // therefore never leave the mail root.
        var address = DirectoryNames.NormalizeAddress(mailbox);
        return Path.Combine(MailRoot, DirectoryNames.DomainOf(address), DirectoryNames.LocalPartOf(address), "Maildir");
    }

    /// <summary>Delivers one copy durably. Throws (IOException, UnauthorizedAccessException) when it cannot; retry with the same name.</summary>
    public async Task<MaildirResult> DeliverAsync(MaildirMessage message, CancellationToken cancellationToken = default, bool nameIsNew = false)
    {
        ArgumentNullException.ThrowIfNull(message);
        cancellationToken.ThrowIfCancellationRequested();
        MaildirResult? result = null;
        // The fsyncs block for milliseconds: keep them off the thread pool.
        await MaildirIoThreads.Run(() => result = Deliver(message, nameIsNew)).ConfigureAwait(false);
        return result!;
    }

    private MaildirResult Deliver(MaildirMessage message, bool nameIsNew)
    {
        ValidateName(message.UniqueName);
        var maildir = EnsureMaildir(message.Mailbox);
        if (!nameIsNew && FindExisting(maildir, message.UniqueName) is { } existing)
        {
            return new MaildirResult(message, MaildirOutcome.AlreadyDelivered, existing);
        }
        var tmp = WriteTmp(maildir, message, flushToDisk: true);
        var final = Path.Combine(maildir, "new", message.UniqueName);
        try
        {
            MaildirFileSystem.Rename(tmp, final); // atomic; we checked above that no copy exists
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MaildirFileSystem.TryDelete(tmp);
            throw;
        }
        MaildirFileSystem.FsyncDirectory(Path.Combine(maildir, "new"));
        return new MaildirResult(message, MaildirOutcome.Delivered, final);
    }

    /// <summary>
    /// Delivers many copies with one durability barrier for the batch instead of two fsyncs each
    /// (see <see cref="MaildirBatchDurability"/>). Never throws for one copy's failure: each result says
    /// Delivered, AlreadyDelivered or Failed; a Failed copy can be retried with the same name.
    /// Copies sharing a unique name and mailbox in one batch are a caller error (the first wins).
    /// <paramref name="namesAreNew"/>: the caller made every name moments ago (a fresh queue id), so no
    /// earlier attempt can have delivered it and the per-copy look-up in new/ and cur/ is skipped.
    /// </summary>
    public async Task<IReadOnlyList<MaildirResult>> DeliverBatchAsync(IReadOnlyList<MaildirMessage> messages, CancellationToken cancellationToken = default, bool namesAreNew = false)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (BatchDurability == MaildirBatchDurability.PerMessage || messages.Count == 1)
        {
            var sequential = new List<MaildirResult>(messages.Count);
            foreach (var m in messages)
            {
                sequential.Add(await CatchAsync(m, () => DeliverAsync(m, cancellationToken, namesAreNew)).ConfigureAwait(false));
            }
            return sequential;
        }

        if (BatchDurability == MaildirBatchDurability.SyncFs)
        {
            // The whole batch on one I/O thread, stage after stage: its only waits are the two barriers, and
            // no thread hand-off between stages delays the 250s that wait for it (each hop cost a wake-up
            // and, on a busy machine, a wait for a core).
            Task<IReadOnlyList<MaildirResult>>? done = null;
            await MaildirIoThreads.Run(() => done = CommitAsync(StageAll(messages, namesAreNew), RunHere)).ConfigureAwait(false);
            return await done!.ConfigureAwait(false);
        }
        List<StagedCopy> staged = [];
        await MaildirIoThreads.Run(() => staged = StageAll(messages, namesAreNew)).ConfigureAwait(false);
        return await CommitAsync(staged, RunOnIoThreads).ConfigureAwait(false);
    }

    private List<StagedCopy> StageAll(IReadOnlyList<MaildirMessage> messages, bool namesAreNew)
    {
        var seen = new HashSet<(string, string)>();
        var curIndex = new CurIndex();
        var staged = new List<StagedCopy>(messages.Count);
        foreach (var m in messages)
        {
            staged.Add(seen.Add((m.Mailbox, m.UniqueName))
                ? Stage(m, namesAreNew, curIndex)
                : StagedCopy.Done(new MaildirResult(m, MaildirOutcome.Failed, null, new ArgumentException($"{m.UniqueName} appears twice in the batch for {m.Mailbox}"))));
        }
        return staged;
    }

    /// <summary>
    /// The first half of a batched delivery: writes the copy into tmp/, not yet durable and not yet visible
    /// to readers. Blocks for the file's creation and write (tens of microseconds; never an fsync), so a
    /// session can stage its own copies before it joins a batch and the batch waits only for the barriers.
    /// Never throws for the copy's failure: the staged copy then carries its final result. Pass what it
    /// returns to <see cref="CommitAsync(IReadOnlyList{StagedCopy})"/>.
    /// <paramref name="nameIsNew"/>: see <see cref="DeliverBatchAsync"/>'s namesAreNew.
    /// </summary>
    public StagedCopy Stage(MaildirMessage message, bool nameIsNew) => Stage(message, nameIsNew, null);

    private StagedCopy Stage(MaildirMessage m, bool nameIsNew, CurIndex? curIndex)
    {
        ArgumentNullException.ThrowIfNull(m);
        try
        {
            ValidateName(m.UniqueName);
            var maildir = EnsureMaildir(m.Mailbox);
            if (!nameIsNew && FindExisting(maildir, m.UniqueName, curIndex ?? new CurIndex()) is { } existing)
            {
                return StagedCopy.Done(new MaildirResult(m, MaildirOutcome.AlreadyDelivered, existing));
            }
            return new StagedCopy(m, maildir, WriteTmp(maildir, m, flushToDisk: false), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or DirectoryException)
        {
            return StagedCopy.Done(new MaildirResult(m, MaildirOutcome.Failed, null, e));
        }
    }

    /// <summary>
    /// The second half: makes staged copies durable and visible, with one barrier for the whole batch
    /// (<see cref="MaildirBatchDurability"/>), then renames them into new/ and fsyncs each distinct new/ once.
    /// One result per staged copy, in order.
    /// </summary>
    public async Task<IReadOnlyList<MaildirResult>> CommitAsync(IReadOnlyList<StagedCopy> staged)
    {
        ArgumentNullException.ThrowIfNull(staged);
        if (BatchDurability == MaildirBatchDurability.ParallelFsync)
        {
            return await CommitAsync(staged, RunOnIoThreads).ConfigureAwait(false);
        }
        Task<IReadOnlyList<MaildirResult>>? done = null;
        await MaildirIoThreads.Run(() => done = CommitAsync(staged, RunHere)).ConfigureAwait(false);
        return await done!.ConfigureAwait(false);
    }

    /// <summary>
    /// For a committer that chains its barriers (<see cref="InlineLocalDelivery"/> under
    /// <see cref="MaildirBatchDurability.SyncFs"/>): one syncfs(2) of the data directory's filesystem, on this
    /// thread. It makes durable both the copies staged in tmp/ so far and every link into new/ made
    /// before it (syncfs writes the filesystem's dirty metadata, directories included). Throws IOException.
    /// </summary>
    public void SyncFileSystem() => MaildirFileSystem.SyncFileSystem(_dataDir);

    /// <summary>
    /// The visible half of a chained commit once the copy's data is durable in tmp/: links it into new/
    /// (https://cr.yp.to/proto/maildir.html) and keeps its tmp/ name, so that until the next barrier makes the
    /// link durable a crash leaves the copy reachable in tmp/, where <see cref="RecoverStaged"/> finds it. The
    /// caller removes the tmp/ name with <see cref="ReleaseStaged"/> after that barrier. A failed link is
    /// Failed and its tmp/ file removed.
    /// </summary>
    public MaildirResult LinkIntoNew(StagedCopy copy)
    {
        ArgumentNullException.ThrowIfNull(copy);
        if (copy.Tmp is null)
        {
            return copy.Result!;
        }
        var final = Path.Combine(copy.Maildir!, "new", copy.Message.UniqueName);
        try
        {
            MaildirFileSystem.Link(copy.Tmp, final);
            return new MaildirResult(copy.Message, MaildirOutcome.Delivered, final);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MaildirFileSystem.TryDelete(copy.Tmp);
            return new MaildirResult(copy.Message, MaildirOutcome.Failed, null, e);
        }
    }

    /// <summary>Removes the tmp/ name of a copy linked into new/ once a barrier has made the link durable.</summary>
    public static void ReleaseStaged(string tmp) => MaildirFileSystem.TryDelete(tmp);

    /// <summary>
    /// Run at start, before any delivery: finishes what a crash interrupted in the Maildirs' tmp/ directories.
    /// A staged copy (<see cref="MaildirStagingName"/>) whose final name is already in new/ or cur/ was linked:
    /// its tmp/ name is removed. One that is not, and holds exactly the bytes its name describes, may have been
    /// acknowledged (a chained commit acknowledges after the data barrier and the link, before the link is
    /// durable): it goes into new/ (linked, new/ fsynced, then its tmp/ name removed). One that is short or
    /// differs was never acknowledged (no acknowledgement precedes the barrier that makes a copy's data durable)
    /// and is removed. So every acknowledged copy ends in new/ exactly once (DESIGN principle 4); a copy that was
    /// complete but not yet acknowledged may be delivered too, a duplicate that RFC 5321 §6.1 accepts.
    /// Other files in tmp/ are left alone (a reader's own, or Dovecot's 36-hour clean-up).
    /// </summary>
    public MaildirRecovery RecoverStaged()
    {
        var recovery = new MaildirRecovery();
        if (!System.IO.Directory.Exists(MailRoot))
        {
            return recovery;
        }
        foreach (var domain in System.IO.Directory.EnumerateDirectories(MailRoot))
        {
            foreach (var user in System.IO.Directory.EnumerateDirectories(domain))
            {
                var maildir = Path.Combine(user, "Maildir");
                var tmpDir = Path.Combine(maildir, "tmp");
                if (System.IO.Directory.Exists(tmpDir) && System.IO.Directory.Exists(Path.Combine(maildir, "new")))
                {
                    RecoverStaged(maildir, tmpDir, recovery);
                }
            }
        }
        return recovery;
    }

    private static void RecoverStaged(string maildir, string tmpDir, MaildirRecovery recovery)
    {
        var linked = new List<string>();
        var restored = 0;
        foreach (var tmp in System.IO.Directory.GetFiles(tmpDir))
        {
            if (!MaildirStagingName.TryParse(Path.GetFileName(tmp), out var name, out var length, out var checksum))
            {
                continue;
            }
            try
            {
                if (FindExisting(maildir, name) is not null)
                {
                    MaildirFileSystem.TryDelete(tmp);
                    recovery.Released++;
                }
                else if (MaildirStagingName.IsIntact(tmp, length, checksum))
                {
                    var final = Path.Combine(maildir, "new", name);
                    if (OperatingSystem.IsLinux())
                    {
                        MaildirFileSystem.Link(tmp, final);
                        linked.Add(tmp);
                    }
                    else
                    {
                        MaildirFileSystem.Rename(tmp, final);
                    }
                    recovery.Restored.Add(final);
                    restored++;
                }
                else
                {
                    MaildirFileSystem.TryDelete(tmp);
                    recovery.Discarded++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // One damaged mailbox must not keep the server from starting: the copy stays in tmp/ for the next
                // start, and the log names it.
                recovery.Failed.Add((tmp, e.Message));
            }
        }
        if (restored > 0)
        {
            try
            {
                MaildirFileSystem.FsyncDirectory(Path.Combine(maildir, "new"));
            }
            catch (IOException e)
            {
                // The links are not known durable: keep the tmp/ names, the next start finds them again.
                recovery.Failed.Add((Path.Combine(maildir, "new"), e.Message));
                return;
            }
        }
        foreach (var tmp in linked)
        {
            MaildirFileSystem.TryDelete(tmp);
        }
    }

    /// <summary>
    /// Renames a copy from tmp/ into new/ (atomic: readers see all of it or nothing). A failed rename is
    /// Failed and its tmp/ file removed: not in new/, so never delivered, and a retry writes it afresh.
    /// </summary>
    private static MaildirResult Publish(MaildirMessage message, string maildir, string tmp)
    {
        var final = Path.Combine(maildir, "new", message.UniqueName);
        try
        {
            MaildirFileSystem.Rename(tmp, final);
            return new MaildirResult(message, MaildirOutcome.Delivered, final);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MaildirFileSystem.TryDelete(tmp);
            return new MaildirResult(message, MaildirOutcome.Failed, null, e);
        }
    }

    /// <summary>Runs each action on this thread, one after the other (each catches its own failures).</summary>
    private static Task RunHere(IEnumerable<Action> actions)
    {
        foreach (var action in actions)
        {
            action();
        }
        return Task.CompletedTask;
    }

    /// <summary>Runs the actions concurrently on the I/O threads: many fsyncs in flight let ext4/xfs fold them into few journal commits.</summary>
    private static Task RunOnIoThreads(IEnumerable<Action> actions) => Task.WhenAll(actions.Select(MaildirIoThreads.Run));

    private async Task<IReadOnlyList<MaildirResult>> CommitAsync(IReadOnlyList<StagedCopy> staged, Func<IEnumerable<Action>, Task> run)
    {
        var results = staged.Select(c => c.Result).ToArray();
        var pending = staged.Select(c => c.Tmp is null ? ((string Maildir, string Tmp)?)null : (c.Maildir!, c.Tmp)).ToArray();
        var messages = staged.Select(c => c.Message).ToArray();
        var waiting = pending.Count(p => p is not null);

        // 1. The barrier: every tmp file's data durable before any of them is renamed. One copy alone, or
        // ParallelFsync: fsync each file (concurrently); a batch under SyncFs: one syncfs(2).
        if (waiting > 0)
        {
            var failed = new ConcurrentDictionary<int, Exception>();
            if (BatchDurability == MaildirBatchDurability.SyncFs && waiting > 1)
            {
                await run([() =>
                {
                    try
                    {
                        MaildirFileSystem.SyncFileSystem(_dataDir);
                    }
                    catch (IOException e)
                    {
                        failed[-1] = e;
                    }
                }]).ConfigureAwait(false);
            }
            else
            {
                await run(Enumerable.Range(0, pending.Length).Where(i => pending[i] is not null).Select(i => (Action)(() =>
                {
                    try
                    {
                        MaildirFileSystem.FsyncFile(pending[i]!.Value.Tmp);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        failed[i] = e;
                    }
                }))).ConfigureAwait(false);
            }
            foreach (var (i, e) in failed)
            {
                for (var j = 0; j < pending.Length; j++)
                {
                    if ((i < 0 || i == j) && pending[j] is { } p)
                    {
                        MaildirFileSystem.TryDelete(p.Tmp);
                        pending[j] = null;
                        results[j] = new MaildirResult(messages[j], MaildirOutcome.Failed, null, e);
                    }
                }
            }
        }

        // 2. Rename into new/.
        var touched = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < pending.Length; i++)
        {
            if (pending[i] is not { } p)
            {
                continue;
            }
            results[i] = Publish(messages[i], p.Maildir, p.Tmp);
            if (results[i]!.Outcome == MaildirOutcome.Delivered)
            {
                touched.Add(Path.Combine(p.Maildir, "new"));
            }
        }

        // 3. One fsync per distinct new/: the renames become durable.
        var failedDirs = new ConcurrentDictionary<string, Exception>(StringComparer.Ordinal);
        await run(touched.Select(dir => (Action)(() =>
        {
            try
            {
                MaildirFileSystem.FsyncDirectory(dir);
            }
            catch (IOException e)
            {
                failedDirs[dir] = e;
            }
        }))).ConfigureAwait(false);
        if (!failedDirs.IsEmpty)
        {
            for (var i = 0; i < pending.Length; i++)
            {
                if (pending[i] is { } p && failedDirs.TryGetValue(Path.Combine(p.Maildir, "new"), out var e))
                {
                    // Not known to be durable: report failure; a retry finds the copy if it did survive.
                    results[i] = new MaildirResult(messages[i], MaildirOutcome.Failed, null, e);
                }
            }
        }
        return results.Select(r => r!).ToList();
    }

    private static async Task<MaildirResult> CatchAsync(MaildirMessage m, Func<Task<MaildirResult>> deliver)
    {
        try
        {
            return await deliver().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or DirectoryException)
        {
            return new MaildirResult(m, MaildirOutcome.Failed, null, e);
        }
    }

    /// <summary>The copy already delivered under this name: new/name, cur/name, or cur/name:2,flags (renamed by a reader).</summary>
    private static string? FindExisting(string maildir, string name, CurIndex? curIndex = null)
    {
        var inNew = Path.Combine(maildir, "new", name);
        if (File.Exists(inNew))
        {
            return inNew;
        }
        if (curIndex is not null)
        {
            return curIndex.Find(maildir, name);
        }
        var cur = Path.Combine(maildir, "cur");
        var inCur = Path.Combine(cur, name);
        if (File.Exists(inCur))
        {
            return inCur;
        }
        // Maildir info suffix: "name:2,FLAGS" (https://cr.yp.to/proto/maildir.html). Enumerating cur/ costs a
        // directory read per delivery; it is what makes redelivery safe after a reader moved the copy.
        foreach (var entry in System.IO.Directory.EnumerateFiles(cur))
        {
            if (BaseName(Path.GetFileName(entry)) == name)
            {
                return entry;
            }
        }
        return null;
    }

    /// <summary>A Maildir file name without its ":2,FLAGS" info part.</summary>
    private static string BaseName(string fileName)
    {
        var colon = fileName.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? fileName : fileName[..colon];
    }

    /// <summary>
    /// cur/ read once per Maildir per batch: a mailbox whose reader keeps thousands of messages in cur/
    /// would otherwise cost one full directory read per copy. Files a reader moves into cur/ during the
    /// batch come from new/, which is checked per copy.
    /// </summary>
    private sealed class CurIndex
    {
        private readonly ConcurrentDictionary<string, Lazy<Dictionary<string, string>>> _byMaildir = new(StringComparer.Ordinal);

        public string? Find(string maildir, string name)
        {
            var index = _byMaildir.GetOrAdd(maildir, m => new Lazy<Dictionary<string, string>>(() =>
            {
                var names = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var entry in System.IO.Directory.EnumerateFiles(Path.Combine(m, "cur")))
                {
                    names.TryAdd(BaseName(Path.GetFileName(entry)), entry);
                }
                return names;
            })).Value;
            return index.TryGetValue(name, out var path) ? path : null;
        }
    }

    private string WriteTmp(string maildir, MaildirMessage message, bool flushToDisk)
    {
        var length = 0;
        foreach (var segment in message.Content)
        {
            length += segment.Length;
        }
        // The whole copy is assembled first and written with one pwrite(2): no FileStream buffer, no seek.
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        try
        {
            var written = _unixLineEndings ? CopyWithLf(message.Content, buffer) : CopyAsIs(message.Content, buffer);
            var content = buffer.AsSpan(0, written);
            var tmp = Path.Combine(maildir, "tmp", MaildirStagingName.Format(message.UniqueName, content));
            MaildirFileSystem.CreateFile(tmp, content, flushToDisk);
            return tmp;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int CopyAsIs(IReadOnlyList<ReadOnlyMemory<byte>> content, byte[] into)
    {
        var at = 0;
        foreach (var segment in content)
        {
            segment.Span.CopyTo(into.AsSpan(at));
            at += segment.Length;
        }
        return at;
    }

    /// <summary>Copies the segments with every CRLF turned into LF (a CRLF split across two segments included); a lone CR stays.</summary>
    private static int CopyWithLf(IReadOnlyList<ReadOnlyMemory<byte>> content, byte[] into)
    {
        var at = 0;
        var heldCr = false;
        foreach (var segment in content)
        {
            var rest = segment.Span;
            if (rest.IsEmpty)
            {
                continue;
            }
            if (heldCr)
            {
                if (rest[0] != (byte)'\n')
                {
                    into[at++] = (byte)'\r';
                }
                heldCr = false;
            }
            while (!rest.IsEmpty)
            {
                var cr = rest.IndexOf((byte)'\r');
                if (cr < 0)
                {
                    rest.CopyTo(into.AsSpan(at));
                    at += rest.Length;
                    break;
                }
                rest[..cr].CopyTo(into.AsSpan(at));
                at += cr;
                if (cr == rest.Length - 1)
                {
                    heldCr = true; // the next segment shows whether an LF follows
                    break;
                }
                if (rest[cr + 1] != (byte)'\n')
                {
                    into[at++] = (byte)'\r';
                }
                rest = rest[(cr + 1)..];
            }
        }
        if (heldCr)
        {
            into[at++] = (byte)'\r';
        }
        return at;
    }

    /// <summary>Creates the Maildir (and its parents) on first use, durably: each new directory's parent is fsynced.</summary>
    private string EnsureMaildir(string mailbox)
    {
        var maildir = MaildirPath(mailbox);
        if (_ready.ContainsKey(maildir))
        {
            return maildir;
        }
        if (!System.IO.Directory.Exists(Path.Combine(maildir, "new")) || !System.IO.Directory.Exists(Path.Combine(maildir, "cur")) || !System.IO.Directory.Exists(Path.Combine(maildir, "tmp")))
        {
            // Walk down from the data directory, creating what is missing and fsyncing each parent that
            // got a new entry, so a crash cannot lose a mailbox directory that a delivered file is in.
            var chain = new List<string>();
            for (var d = maildir; d.Length > _dataDir.Length; d = Path.GetDirectoryName(d)!)
            {
                chain.Add(d);
            }
            chain.Reverse();
            var parentsToSync = new HashSet<string>(StringComparer.Ordinal);
            foreach (var dir in chain.Concat([Path.Combine(maildir, "tmp"), Path.Combine(maildir, "new"), Path.Combine(maildir, "cur")]))
            {
                if (!System.IO.Directory.Exists(dir))
                {
                    CreatePrivateDirectory(dir);
                    parentsToSync.Add(Path.GetDirectoryName(dir)!);
                }
            }
            foreach (var parent in parentsToSync.OrderByDescending(p => p.Length))
            {
                MaildirFileSystem.FsyncDirectory(parent);
            }
        }
        _ready.TryAdd(maildir, true);
        return maildir;
    }

    private static void CreatePrivateDirectory(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(dir);
        }
        else
        {
            System.IO.Directory.CreateDirectory(dir, DirectoryMode);
        }
    }

    internal static void ValidateName(string name)
    {
        // A Maildir base name is one path component with no ':' (that starts the info part) and no leading
        // dot (Maildir++ folders start with one).
        if (string.IsNullOrEmpty(name) || name.Length > 200 || name[0] == '.'
            || name.AsSpan().IndexOfAny("/:\0\r\n") >= 0)
        {
            throw new ArgumentException($"\"{name}\" is not a valid Maildir file name", nameof(name));
        }
    }
}
