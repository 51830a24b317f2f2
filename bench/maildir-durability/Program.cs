using System.Diagnostics;
using System.Text;
using Portcullis.Server.Delivery;

// Throwaway: which batch durability is fastest for Maildir delivery on this disk?
// dotnet run -c Release --project bench/maildir-durability -- DIR MESSAGES_PER_RUN ROUNDS
// Modes are interleaved round by round so disk noise from other processes hits them alike; medians reported.
var root = args[0];
var perRun = int.Parse(args[1]);
var rounds = int.Parse(args[2]);
if (Environment.GetEnvironmentVariable("MINTHREADS") is { } mt) ThreadPool.SetMinThreads(int.Parse(mt), int.Parse(mt));
var body = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiusmod.\r\n", 70)));
Console.WriteLine($"message {body.Length} bytes, {perRun} messages per run, {rounds} rounds, root {root}, minthreads {Environment.GetEnvironmentVariable("MINTHREADS") ?? "default"}");
var configs = new (int Mailboxes, int Batch, MaildirBatchDurability Mode)[]
{
    (1, 1, MaildirBatchDurability.PerMessage),
    (1, 50, MaildirBatchDurability.ParallelFsync), (1, 50, MaildirBatchDurability.SyncFs),
    (1, 200, MaildirBatchDurability.ParallelFsync), (1, 200, MaildirBatchDurability.SyncFs),
    (20, 50, MaildirBatchDurability.ParallelFsync), (20, 50, MaildirBatchDurability.SyncFs),
};
var results = configs.ToDictionary(c => c, _ => new List<double>());
for (var round = 0; round < rounds; round++)
foreach (var c in configs)
{
    var dir = Path.Combine(root, Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(dir);
    var w = new MaildirWriter(dir, true, c.Mode);
    for (var m = 0; m < c.Mailboxes; m++) await w.DeliverAsync(new MaildirMessage($"u{m}@example.test", $"warm.{m}", body));
    var sw = Stopwatch.StartNew();
    var n = 0;
    while (n < perRun)
    {
        var list = new List<MaildirMessage>();
        for (var i = 0; i < c.Batch && n < perRun; i++, n++) list.Add(new MaildirMessage($"u{n % c.Mailboxes}@example.test", $"1700000000.Pq{n}R0.bench", body));
        var r = await w.DeliverBatchAsync(list);
        if (r.Any(x => x.Outcome != MaildirOutcome.Delivered)) throw new Exception("not delivered: " + r.First(x => x.Outcome != MaildirOutcome.Delivered).Error);
    }
    results[c].Add(perRun / sw.Elapsed.TotalSeconds);
    Directory.Delete(dir, true);
}
foreach (var (c, list) in results)
{
    list.Sort();
    Console.WriteLine($"mailboxes={c.Mailboxes,2} batch={c.Batch,3} {c.Mode,-13} median {list[list.Count / 2],6:F0} msg/s  (min {list[0]:F0}, max {list[^1]:F0})");
}
