using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Portcullis.Smtp;

namespace Portcullis.Smtp.Tests;

/// <summary>Property tests: no input makes the parser or the readers throw or hang.</summary>
public class NeverThrowsProperties
{
    private static readonly char[] Alphabet = "<>@\"\\:,.[]%! aZ09-\r\n\0=é".ToCharArray();

    private static Arbitrary<string> SmtpishStrings() =>
        Gen.ArrayOf(Gen.Elements(Alphabet)).Select(a => new string(a)).ToArbitrary();

    [Property(MaxTest = 2000)]
    public Property Path_parser_never_throws()
    {
        return Prop.ForAll(SmtpishStrings(), s =>
        {
            var err = PathParser.TryParse(s, true, out var path, out _);
            return err != PathError.None || path is not null;
        });
    }

    [Property(MaxTest = 500)]
    public Property Command_reader_consumes_any_bytes_without_throwing_or_hanging(byte[] bytes)
    {
        var input = new SmtpInput(new MemoryStream(bytes));
        var task = Task.Run(async () =>
        {
            var n = 0;
            while ((await input.ReadCommandAsync(512, CancellationToken.None)).Kind != LineKind.EndOfStream)
            {
                n++;
            }
            return n;
        });
        return (task.Wait(TimeSpan.FromSeconds(5)) && task.Result <= bytes.Length + 1).ToProperty();
    }

    [Property(MaxTest = 500)]
    public Property Data_reader_consumes_any_bytes_without_throwing_or_hanging(byte[] bytes)
    {
        var input = new SmtpInput(new MemoryStream(bytes));
        var task = Task.Run(async () => await input.ReadDataAsync(new ArrayBufferWriter<byte>(), 1 << 20, 1000, CancellationToken.None));
        return task.Wait(TimeSpan.FromSeconds(5)).ToProperty();
    }
}
