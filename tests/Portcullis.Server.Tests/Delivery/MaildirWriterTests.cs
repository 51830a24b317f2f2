using System.Text;
using Portcullis.Server.Delivery;
using Portcullis.Server.Directory;
using Portcullis.Server.Tests.Directory;

namespace Portcullis.Server.Tests.Delivery;

public sealed class MaildirWriterTests : IDisposable
{
    private const UnixFileMode Rwx = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode Rw = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static readonly byte[] Message = Encoding.ASCII.GetBytes(
        "Received: from client.example by mx.example.test; Fri, 27 Nov 2026 23:00:00 +0000\r\nSubject: hi\r\n\r\nline one\r\n..dot stays as the queue stored it\r\n");

    private readonly TempDataDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Maildir(string domain, string local) => Path.Combine(_dir.Path, "mail", domain, local, "Maildir");

    [Fact]
    public async Task Delivery_lands_in_new_with_return_path_and_lf_line_endings()
    {
        var writer = new MaildirWriter(_dir.Path);
        var name = MaildirMessage.NameFor(DateTimeOffset.FromUnixTimeSeconds(1_795_000_000), "q42", 0, "mx.example.test");
        Assert.Equal("1795000000.Pq42R0.mx.example.test", name);

        var result = await writer.DeliverAsync(new MaildirMessage("Alice@Example.Test", name, [MaildirMessage.ReturnPathLine("bob@remote.example"), Message]));

        Assert.Equal(MaildirOutcome.Delivered, result.Outcome);
        var expectedPath = Path.Combine(Maildir("example.test", "alice"), "new", name);
        Assert.Equal(expectedPath, result.Path);
        var text = await File.ReadAllTextAsync(expectedPath);
        Assert.StartsWith("Return-Path: <bob@remote.example>\nReceived: from client.example", text, StringComparison.Ordinal);
        Assert.EndsWith("\n\nline one\n..dot stays as the queue stored it\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', text);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "tmp")));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Maildir_directories_are_0700_and_messages_0600()
    {
        var writer = new MaildirWriter(_dir.Path);
        var result = await writer.DeliverAsync(new MaildirMessage("alice@example.test", "1.Pq1R0.host", Message));
        foreach (var sub in new[] { "tmp", "new", "cur" })
        {
            Assert.Equal(Rwx, File.GetUnixFileMode(Path.Combine(Maildir("example.test", "alice"), sub)));
        }
        Assert.Equal(Rwx, File.GetUnixFileMode(Maildir("example.test", "alice")));
        Assert.Equal(Rw, File.GetUnixFileMode(result.Path!));
    }

    [Fact]
    public async Task Crlf_is_kept_when_asked()
    {
        var writer = new MaildirWriter(_dir.Path, unixLineEndings: false);
        var result = await writer.DeliverAsync(new MaildirMessage("alice@example.test", "1.Pq1R0.host", Message));
        Assert.Equal(Message, await File.ReadAllBytesAsync(result.Path!));
    }

    [Fact]
    public async Task Crlf_split_across_segments_becomes_one_lf_and_a_lone_cr_stays()
    {
        var writer = new MaildirWriter(_dir.Path);
        byte[][] parts = [Encoding.ASCII.GetBytes("a\r"), [], Encoding.ASCII.GetBytes("\nb\r"), Encoding.ASCII.GetBytes("c\r\n"), Encoding.ASCII.GetBytes("end\r")];
        var result = await writer.DeliverAsync(new MaildirMessage("alice@example.test", "1.Pq1R0.host", parts.Select(p => (ReadOnlyMemory<byte>)p).ToList()));
        Assert.Equal("a\nb\rc\nend\r", await File.ReadAllTextAsync(result.Path!));
    }

    [Fact]
    public async Task Redelivery_with_the_same_name_does_not_duplicate()
    {
        var writer = new MaildirWriter(_dir.Path);
        var message = new MaildirMessage("alice@example.test", "1795000000.Pq7R1.mx", Message);
        Assert.Equal(MaildirOutcome.Delivered, (await writer.DeliverAsync(message)).Outcome);

        // A fresh writer, as after a restart: it must find the copy on disk, not in memory.
        var again = await new MaildirWriter(_dir.Path).DeliverAsync(message);
        Assert.Equal(MaildirOutcome.AlreadyDelivered, again.Outcome);
        Assert.Single(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "new")));
    }

    [Theory]
    [InlineData("1795000000.Pq7R1.mx:2,S")]
    [InlineData("1795000000.Pq7R1.mx:2,")]
    [InlineData("1795000000.Pq7R1.mx")]
    public async Task Redelivery_after_a_reader_moved_the_copy_to_cur_does_not_duplicate(string nameInCur)
    {
        var writer = new MaildirWriter(_dir.Path);
        var message = new MaildirMessage("alice@example.test", "1795000000.Pq7R1.mx", Message);
        var first = await writer.DeliverAsync(message);
        // What Dovecot does when a client sees the message: new/name -> cur/name:2,FLAGS.
        var moved = Path.Combine(Maildir("example.test", "alice"), "cur", nameInCur);
        File.Move(first.Path!, moved);

        var again = await writer.DeliverAsync(message);
        Assert.Equal(MaildirOutcome.AlreadyDelivered, again.Outcome);
        Assert.Equal(moved, again.Path);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "new")));
    }

    [Fact]
    public async Task A_different_recipient_index_is_a_different_copy()
    {
        var writer = new MaildirWriter(_dir.Path);
        Assert.Equal(MaildirOutcome.Delivered, (await writer.DeliverAsync(new MaildirMessage("alice@example.test", "1.Pq7R1.mx", Message))).Outcome);
        // Another message whose name has the first as a prefix is not mistaken for it.
        Assert.Equal(MaildirOutcome.Delivered, (await writer.DeliverAsync(new MaildirMessage("alice@example.test", "1.Pq7R10.mx", Message))).Outcome);
        Assert.Equal(MaildirOutcome.Delivered, (await writer.DeliverAsync(new MaildirMessage("alice@example.test", "1.Pq7R1.mx2", Message))).Outcome);
        Assert.Equal(3, System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "new")).Length);
    }

    [Fact]
    public async Task A_leftover_tmp_file_from_a_crash_is_replaced()
    {
        var writer = new MaildirWriter(_dir.Path);
        await writer.DeliverAsync(new MaildirMessage("alice@example.test", "0.Pq0R0.mx", Message)); // creates the Maildir
        // What a crash in the middle of writing this very copy leaves: its staging name, part of its bytes.
        var expected = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(Message).Replace("\r\n", "\n", StringComparison.Ordinal));
        var tmp = Path.Combine(Maildir("example.test", "alice"), "tmp", MaildirStagingName.Format("1.Pq9R0.mx", expected));
        await File.WriteAllBytesAsync(tmp, expected[..20]);

        var result = await writer.DeliverAsync(new MaildirMessage("alice@example.test", "1.Pq9R0.mx", Message));
        Assert.Equal(MaildirOutcome.Delivered, result.Outcome);
        Assert.Equal(expected, await File.ReadAllBytesAsync(result.Path!));
        Assert.False(File.Exists(tmp));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../../../etc/passwd")]
    [InlineData("a/b")]
    [InlineData("name:2,S")]
    [InlineData(".hidden")]
    public async Task Unsafe_unique_names_are_refused(string name)
    {
        var writer = new MaildirWriter(_dir.Path);
        await Assert.ThrowsAsync<ArgumentException>(() => writer.DeliverAsync(new MaildirMessage("alice@example.test", name, Message)));
        Assert.False(System.IO.Directory.Exists(Path.Combine(_dir.Path, "etc")));
    }

    [Theory]
    [InlineData("../root@example.test")]
    [InlineData("alice@../../etc")]
    [InlineData(".x@example.test")]
    [InlineData("alice")]
    public async Task Mailbox_names_cannot_leave_the_mail_root(string mailbox)
    {
        var writer = new MaildirWriter(_dir.Path);
        await Assert.ThrowsAsync<DirectoryException>(() => writer.DeliverAsync(new MaildirMessage(mailbox, "1.Pq1R0.mx", Message)));
        Assert.False(System.IO.Directory.Exists(Path.Combine(_dir.Path, "mail")) && System.IO.Directory.EnumerateFileSystemEntries(Path.Combine(_dir.Path, "mail")).Any());
    }

    [Theory]
    [InlineData(MaildirBatchDurability.PerMessage)]
    [InlineData(MaildirBatchDurability.ParallelFsync)]
    [InlineData(MaildirBatchDurability.SyncFs)]
    public async Task Batch_delivers_every_copy_and_reports_each_outcome(MaildirBatchDurability mode)
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: mode);
        await writer.DeliverAsync(new MaildirMessage("bob@example.test", "1.Pq1R1.mx", Message)); // delivered before a "crash"

        var batch = new List<MaildirMessage>();
        for (var i = 0; i < 30; i++)
        {
            batch.Add(new MaildirMessage($"user{i % 5}@example.test", $"1.Pq{100 + i}R0.mx", Message));
        }
        batch.Add(new MaildirMessage("bob@example.test", "1.Pq1R1.mx", Message));      // already there
        batch.Add(new MaildirMessage("carol@example.test", "bad/name", Message));      // refused
        batch.Add(new MaildirMessage("../evil@example.test", "1.Pq2R0.mx", Message));  // refused

        var results = await writer.DeliverBatchAsync(batch);

        Assert.Equal(batch.Count, results.Count);
        Assert.All(results.Take(30), r => Assert.Equal(MaildirOutcome.Delivered, r.Outcome));
        Assert.Equal(MaildirOutcome.AlreadyDelivered, results[30].Outcome);
        Assert.Equal(MaildirOutcome.Failed, results[31].Outcome);
        Assert.IsType<ArgumentException>(results[31].Error);
        Assert.Equal(MaildirOutcome.Failed, results[32].Outcome);
        for (var u = 0; u < 5; u++)
        {
            var files = System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", $"user{u}"), "new"));
            Assert.Equal(6, files.Length);
            Assert.All(files, f => Assert.Equal(Encoding.ASCII.GetString(Message).Replace("\r\n", "\n", StringComparison.Ordinal), File.ReadAllText(f)));
            Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", $"user{u}"), "tmp")));
        }
        Assert.Single(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "bob"), "new")));

        // The whole batch again, as after a crash before the queue recorded it: nothing is duplicated.
        var again = await new MaildirWriter(_dir.Path, batchDurability: mode).DeliverBatchAsync(batch.Take(31).ToList());
        Assert.All(again, r => Assert.Equal(MaildirOutcome.AlreadyDelivered, r.Outcome));
        Assert.Equal(6, System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "user0"), "new")).Length);
    }

    [Theory]
    [InlineData(MaildirBatchDurability.ParallelFsync)]
    [InlineData(MaildirBatchDurability.SyncFs)]
    public async Task Batch_redelivery_finds_copies_a_reader_moved_to_cur(MaildirBatchDurability mode)
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: mode);
        var batch = Enumerable.Range(0, 10).Select(i => new MaildirMessage("alice@example.test", $"1.Pq{i}R0.mx", Message)).ToList();
        await writer.DeliverBatchAsync(batch);
        var maildir = Maildir("example.test", "alice");
        // A mail client read the even ones: Dovecot moved them to cur/ with flags.
        for (var i = 0; i < 10; i += 2)
        {
            File.Move(Path.Combine(maildir, "new", $"1.Pq{i}R0.mx"), Path.Combine(maildir, "cur", $"1.Pq{i}R0.mx:2,S"));
        }
        await File.WriteAllTextAsync(Path.Combine(maildir, "cur", "1.Pq1R0.mx0:2,S"), "another message whose name only starts alike");

        var again = await new MaildirWriter(_dir.Path, batchDurability: mode).DeliverBatchAsync([.. batch, new MaildirMessage("alice@example.test", "1.Pq10R0.mx", Message)]);

        Assert.All(again.Take(10), r => Assert.Equal(MaildirOutcome.AlreadyDelivered, r.Outcome));
        Assert.Equal(Path.Combine(maildir, "cur", "1.Pq4R0.mx:2,S"), again[4].Path);
        Assert.Equal(MaildirOutcome.Delivered, again[10].Outcome);
        Assert.Equal(6, System.IO.Directory.GetFiles(Path.Combine(maildir, "new")).Length);
        Assert.Equal(6, System.IO.Directory.GetFiles(Path.Combine(maildir, "cur")).Length);
    }

    [Fact]
    public async Task The_same_copy_twice_in_one_batch_is_written_once()
    {
        var writer = new MaildirWriter(_dir.Path);
        var m = new MaildirMessage("alice@example.test", "1.Pq1R0.mx", Message);
        var results = await writer.DeliverBatchAsync([m, m]);
        Assert.Equal([MaildirOutcome.Delivered, MaildirOutcome.Failed], results.Select(r => r.Outcome));
        Assert.Single(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "new")));
    }

    [Theory]
    [InlineData(MaildirBatchDurability.SyncFs, 1)]
    [InlineData(MaildirBatchDurability.SyncFs, 3)]
    [InlineData(MaildirBatchDurability.ParallelFsync, 3)]
    public async Task A_staged_copy_waits_in_tmp_unseen_until_its_batch_commits(MaildirBatchDurability mode, int copies)
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: mode);
        var staged = Enumerable.Range(0, copies)
            .Select(i => writer.Stage(new MaildirMessage("alice@example.test", $"1795000000.Pstaged{i}R0.mx.example.test", [Message]), nameIsNew: true))
            .ToList();

        // Written, but a reader (Dovecot looks only in new/ and cur/) cannot see it yet.
        Assert.All(staged, c => Assert.Null(c.Result));
        Assert.Equal(copies, System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "tmp")).Length);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "new")));

        var results = await writer.CommitAsync(staged);

        Assert.All(results, r => Assert.Equal(MaildirOutcome.Delivered, r.Outcome));
        Assert.Equal(copies, System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "new")).Length);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "tmp")));
    }

    [Fact]
    public void Chained_commit_primitives_link_into_new_keep_the_tmp_name_until_released_and_a_failed_link_removes_its_tmp_file()
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs);
        var ok = writer.Stage(new MaildirMessage("alice@example.test", "1795000000.PokR0.mx.example.test", [Message]), nameIsNew: true);
        var blocked = writer.Stage(new MaildirMessage("carol@example.test", "1795000000.PblockedR0.mx.example.test", [Message]), nameIsNew: true);
        var carolNew = Path.Combine(Maildir("example.test", "carol"), "new");
        System.IO.Directory.Delete(carolNew);
        File.WriteAllText(carolNew, "new/ is not a directory now");

        writer.SyncFileSystem();
        var delivered = writer.LinkIntoNew(ok);
        var failed = writer.LinkIntoNew(blocked);

        Assert.Equal(MaildirOutcome.Delivered, delivered.Outcome);
        var inNew = Path.Combine(Maildir("example.test", "alice"), "new", "1795000000.PokR0.mx.example.test");
        Assert.True(File.Exists(inNew));
        // Both names until the link is known durable; then only new/.
        Assert.True(File.Exists(ok.Tmp));
        MaildirWriter.ReleaseStaged(ok.Tmp!);
        Assert.False(File.Exists(ok.Tmp));
        Assert.True(File.Exists(inNew));
        Assert.Equal(MaildirOutcome.Failed, failed.Outcome);
        Assert.Contains("link", failed.Error!.Message, StringComparison.Ordinal);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "carol"), "tmp")));
        // A copy that was final at staging keeps its result.
        Assert.Same(failed, writer.LinkIntoNew(StagedCopy.Done(failed)));
    }

    [Fact]
    public void Recovery_puts_a_whole_copy_found_only_in_tmp_into_new_and_removes_its_tmp_name()
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs);
        // Acknowledged after its data barrier; the crash came before its link into new/ reached the disk.
        var copy = writer.Stage(new MaildirMessage("alice@example.test", "1795000000.PrecR0.mx.example.test", [MaildirMessage.ReturnPathLine("bob@remote.example"), Message]), nameIsNew: true);
        var bytes = File.ReadAllBytes(copy.Tmp!);

        var recovery = writer.RecoverStaged();

        var inNew = Path.Combine(Maildir("example.test", "alice"), "new", "1795000000.PrecR0.mx.example.test");
        Assert.Equal([inNew], recovery.Restored);
        Assert.Equal(bytes, File.ReadAllBytes(inNew));
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "tmp")));
        Assert.Equal(0, recovery.Released + recovery.Discarded);
        // Run again (a second restart): nothing more to do, and no second copy.
        var again = writer.RecoverStaged();
        Assert.Empty(again.Restored);
        Assert.Single(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "new")));
    }

    [Theory]
    [InlineData("new", "")]
    [InlineData("cur", "")]
    [InlineData("cur", ":2,S")]
    public void Recovery_removes_the_tmp_name_of_a_copy_already_delivered_and_leaves_the_delivered_copy(string folder, string info)
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs);
        const string name = "1795000000.PdoneR0.mx.example.test";
        var copy = writer.Stage(new MaildirMessage("alice@example.test", name, [Message]), nameIsNew: true);
        var delivered = Path.Combine(Maildir("example.test", "alice"), folder, name + info);
        File.Copy(copy.Tmp!, delivered); // linked (and perhaps moved by a reader) before the crash

        var recovery = writer.RecoverStaged();

        Assert.Equal(1, recovery.Released);
        Assert.Empty(recovery.Restored);
        Assert.False(File.Exists(copy.Tmp));
        Assert.True(File.Exists(delivered));
        Assert.Equal(folder == "new" ? 1 : 0, System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "new")).Length);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("zeroed")]
    [InlineData("longer")]
    public void Recovery_discards_a_copy_the_crash_cut_short_or_left_unwritten(string damage)
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs);
        var copy = writer.Stage(new MaildirMessage("alice@example.test", "1795000000.PtornR0.mx.example.test", [Message]), nameIsNew: true);
        var bytes = File.ReadAllBytes(copy.Tmp!);
        File.WriteAllBytes(copy.Tmp!, damage switch
        {
            "short" => bytes[..(bytes.Length / 2)],
            "zeroed" => new byte[bytes.Length], // blocks allocated but never written: a filesystem without a journal
            _ => [.. bytes, (byte)'x'],
        });

        var recovery = writer.RecoverStaged();

        Assert.Equal(1, recovery.Discarded);
        Assert.Empty(recovery.Restored);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "tmp")));
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "new")));
    }

    [Fact]
    public void Recovery_that_cannot_place_a_copy_leaves_it_in_tmp_names_it_and_goes_on_with_the_other_mailboxes()
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs);
        const string name = "1795000000.PstuckR0.mx.example.test";
        var stuck = writer.Stage(new MaildirMessage("alice@example.test", name, [Message]), nameIsNew: true);
        var fine = writer.Stage(new MaildirMessage("carol@example.test", name, [Message]), nameIsNew: true);
        // Something in alice's new/ holds the copy's name and is not a file: the link into new/ fails.
        System.IO.Directory.CreateDirectory(Path.Combine(Maildir("example.test", "alice"), "new", name));

        var recovery = writer.RecoverStaged();

        var failed = Assert.Single(recovery.Failed);
        Assert.Equal(stuck.Tmp, failed.Path);
        Assert.True(File.Exists(stuck.Tmp));
        Assert.Equal([Path.Combine(Maildir("example.test", "carol"), "new", name)], recovery.Restored);
        Assert.False(File.Exists(fine.Tmp));
    }

    [Fact]
    public void Recovery_leaves_tmp_files_it_did_not_stage_alone()
    {
        var writer = new MaildirWriter(_dir.Path);
        writer.Stage(new MaildirMessage("alice@example.test", "1795000000.PxR0.mx.example.test", [Message]), nameIsNew: true);
        var tmpDir = Path.Combine(Maildir("example.test", "alice"), "tmp");
        foreach (var f in System.IO.Directory.GetFiles(tmpDir))
        {
            File.Delete(f);
        }
        string[] foreign = ["1795000000.M1P2.reader.example", "1795000000.x#notanumber.12345678", "1795000000.y#12.short", "#5.0000abcd"];
        foreach (var f in foreign)
        {
            File.WriteAllText(Path.Combine(tmpDir, f), "someone else's");
        }

        var recovery = writer.RecoverStaged();

        Assert.Equal(0, recovery.Released + recovery.Discarded + recovery.Restored.Count);
        Assert.Equal(foreign.Order(StringComparer.Ordinal), System.IO.Directory.GetFiles(tmpDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Staging_name_carries_the_final_name_the_length_and_the_checksum()
    {
        var content = Encoding.ASCII.GetBytes("Subject: x\n\nhello\n");
        var staged = MaildirStagingName.Format("1795000000.PaR3.mx.example.test", content);

        // Length 18; CRC-32 (IEEE 802.3, the one zlib.crc32 computes) 0xf2d9c266.
        Assert.Equal("1795000000.PaR3.mx.example.test#18.f2d9c266", staged);
        Assert.True(MaildirStagingName.TryParse(staged, out var name, out var length, out var checksum));
        Assert.Equal(("1795000000.PaR3.mx.example.test", 18L, 0xf2d9c266u), (name, length, checksum));
    }

    [Fact]
    public async Task A_staged_copy_whose_tmp_file_vanished_fails_alone_and_the_rest_commit()
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs);
        var kept = writer.Stage(new MaildirMessage("alice@example.test", "1795000000.PkeptR0.mx.example.test", [Message]), nameIsNew: true);
        var lost = writer.Stage(new MaildirMessage("carol@example.test", "1795000000.PlostR0.mx.example.test", [Message]), nameIsNew: true);
        File.Delete(lost.Tmp!);

        var results = await writer.CommitAsync([kept, lost]);

        Assert.Equal(MaildirOutcome.Delivered, results[0].Outcome);
        Assert.Equal(MaildirOutcome.Failed, results[1].Outcome);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "carol"), "new")));
    }

    [Fact]
    public async Task Staging_into_a_mailbox_that_cannot_exist_carries_its_failure_to_the_commit()
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs);
        System.IO.Directory.CreateDirectory(Path.Combine(_dir.Path, "mail", "example.test"));
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "mail", "example.test", "carol"), "not a directory");

        var staged = writer.Stage(new MaildirMessage("carol@example.test", "1795000000.PbadR0.mx.example.test", [Message]), nameIsNew: true);

        Assert.Equal(MaildirOutcome.Failed, staged.Result?.Outcome);
        var result = Assert.Single(await writer.CommitAsync([staged]));
        Assert.Equal(MaildirOutcome.Failed, result.Outcome);
    }


    [Fact]
    public async Task A_copy_whose_tmp_directory_is_gone_fails_with_the_call_and_path_and_the_next_copy_lands()
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs);
        var first = await writer.DeliverAsync(new MaildirMessage("alice@example.test", "1795000000.PfirstR0.mx.example.test", [Message]));
        Assert.Equal(MaildirOutcome.Delivered, first.Outcome);
        // The writer remembers the Maildir as ready; replace its tmp/ with a file behind its back.
        var tmp = Path.Combine(Maildir("example.test", "alice"), "tmp");
        System.IO.Directory.Delete(tmp);
        await File.WriteAllTextAsync(tmp, "not a directory");

        var staged = writer.Stage(new MaildirMessage("alice@example.test", "1795000000.PbadR0.mx.example.test", [Message]), nameIsNew: true);

        Assert.Equal(MaildirOutcome.Failed, staged.Result?.Outcome);
        var error = Assert.IsAssignableFrom<IOException>(staged.Result!.Error);
        Assert.Contains(Path.Combine(tmp, "1795000000.PbadR0.mx.example.test"), error.Message, StringComparison.Ordinal);
        Assert.Single(System.IO.Directory.GetFiles(Path.Combine(Maildir("example.test", "alice"), "new")));

        File.Delete(tmp);
        System.IO.Directory.CreateDirectory(tmp);
        var again = writer.Stage(new MaildirMessage("alice@example.test", "1795000000.PagainR0.mx.example.test", [Message]), nameIsNew: true);
        Assert.Equal(MaildirOutcome.Delivered, Assert.Single(await writer.CommitAsync([again])).Outcome);
    }
    [Fact]
    public void Return_path_line_follows_rfc5321_4_4()
    {
        Assert.Equal("Return-Path: <bob@remote.example>\r\n", Encoding.UTF8.GetString(MaildirMessage.ReturnPathLine("bob@remote.example")));
        Assert.Equal("Return-Path: <>\r\n", Encoding.UTF8.GetString(MaildirMessage.ReturnPathLine("")));
        Assert.Throws<ArgumentException>(() => MaildirMessage.ReturnPathLine("a@b\r\nBcc: x@y"));
    }

    [Fact]
    public void Name_escapes_slash_and_colon_in_the_host_name()
    {
        Assert.Equal(@"7.PabcR3.odd\057host\072name", MaildirMessage.NameFor(DateTimeOffset.FromUnixTimeSeconds(7), "abc", 3, "odd/host:name"));
        Assert.Throws<ArgumentException>(() => MaildirMessage.NameFor(DateTimeOffset.UnixEpoch, "../x", 0, "h"));
    }
}
