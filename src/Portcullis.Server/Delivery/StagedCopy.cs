namespace Portcullis.Server.Delivery;

/// <summary>
/// A Maildir copy after <see cref="MaildirWriter.Stage"/>: either written into <see cref="Tmp"/> and waiting
/// for <see cref="MaildirWriter.CommitAsync(IReadOnlyList{StagedCopy})"/>, or already finished with
/// <see cref="Result"/> (found delivered by an earlier attempt, or failed).
/// </summary>
public sealed record StagedCopy(MaildirMessage Message, string? Maildir, string? Tmp, MaildirResult? Result)
{
    internal static StagedCopy Done(MaildirResult result) => new(result.Message, null, null, result);
}
