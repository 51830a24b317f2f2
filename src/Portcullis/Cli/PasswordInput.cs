using System.Text;

namespace Portcullis.Cli;

/// <summary>A password could not be read, or is not acceptable (exit code 2).</summary>
internal sealed class PasswordInputException(string message) : Exception(message);

/// <summary>
/// Reads a new password for `user add` / `user password`: one line from standard input with
/// <c>--password-stdin</c> (for scripts: <c>printf '%s\n' "$PW" | portcullis user add ... --password-stdin</c>),
/// otherwise typed twice at the terminal without echo. Never from the command line, where other
/// users could read it in the process list.
/// </summary>
internal static class PasswordInput
{
    public static string Read(bool fromStdin)
    {
        string? password;
        if (fromStdin)
        {
            // ReadLine strips the line's "\n" or "\r\n" and nothing else, so spaces stay part of the password.
            password = Console.In.ReadLine();
            if (password is null)
            {
                throw new PasswordInputException("--password-stdin: standard input is empty; give the password as one line");
            }
        }
        else
        {
            if (Console.IsInputRedirected)
            {
                throw new PasswordInputException("standard input is not a terminal, so the password cannot be prompted for; pass it as one line on standard input with --password-stdin");
            }
            password = Prompt("Password: ");
            var again = Prompt("Repeat password: ");
            if (!string.Equals(password, again, StringComparison.Ordinal))
            {
                throw new PasswordInputException("the two passwords differ; nothing was changed");
            }
        }
        if (password.Length == 0)
        {
            throw new PasswordInputException("the password is empty; refusing to create an account anyone can log in to");
        }
        return password;
    }

    /// <summary>Prompts on stderr (stdout stays clean for scripts) and reads keys without echoing them.</summary>
    private static string Prompt(string prompt)
    {
        Console.Error.Write(prompt);
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.Error.WriteLine();
                return text.ToString();
            }
            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0)
                {
                    text.Length--;
                }
            }
            else if (key.KeyChar != '\0')
            {
                text.Append(key.KeyChar);
            }
        }
    }
}
