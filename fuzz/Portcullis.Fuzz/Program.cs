using Portcullis.Fuzz;
using SharpFuzz;

// afl-fuzz runs this once and feeds it inputs through SharpFuzz's fork server (fuzz/README.md). Any exception
// that FuzzTargets does not expect escapes and is a crash; an input that runs past afl's -t is a hang.
var targets = FuzzTargets.All.Concat(SessionFuzzTarget.All).ToDictionary(StringComparer.Ordinal);
if (args.Length != 1 || !targets.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine("usage: Portcullis.Fuzz TARGET    targets: " + string.Join(", ", targets.Keys));
    return 2;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    target(copy.ToArray());
});
return 0;
