# The limit for the rotation-cost row (bench/rows/log-rotation.ts): the system calls of corral's
# rotation, issued by a bare perl loop at the same rate, on the same writer. Per rotation of the
# head (max_bytes 64 KiB, 3 backups): copy_file_range of the head into a new .partial, a read of
# the head's first bytes, three meta saves (temp file + rename), the marker's pwrite,
# sync_file_range of the tail, the collapse, the rename into a backup, the oldest backup's
# unlink. The loop looks at the size every 5 ms (corral hears inotify instead).
# `perl rotation.pl DIR SECONDS ARCH_SYSCALLS` prints {"rotations":N,"seconds":S,"cpuMs":C}: the
# loop's own CPU (not the writer's). ARCH_SYSCALLS: "fallocate,sync_file_range,copy_file_range".
use strict;
use warnings;
use Fcntl qw(O_WRONLY O_CREAT O_EXCL SEEK_SET);
use Time::HiRes qw(time sleep);

my ($dir, $seconds, $numbers) = @ARGV;
my ($fallocate, $sync, $copy) = split /,/, $numbers;
my $path = "$dir/limit.stdout.log";
my $meta = "$dir/.limit.stdout.meta.json";
my $writer = fork();
if ($writer == 0) {
  setpgrp(0, 0);
  open(STDOUT, ">>", $path) or die "open $path: $!";
  exec("/bin/sh", "-c", "while :; do printf '%065535d\\n' 0; sleep 0.1; done") or die "exec: $!";
}
sub save {
  my ($text) = @_;
  open(my $m, ">", "$meta.tmp") or die "meta: $!";
  syswrite($m, $text);
  close($m);
  rename("$meta.tmp", $meta) or die "rename: $!";
}
my ($base, $rotations, @backups) = (0, 0);
my ($user0, $system0) = times;
my $t0 = time;
while (time - $t0 < $seconds) {
  my $size = -s $path // 0;
  if ($size <= 65536) { sleep 0.005; next; }
  my $cut = int(($size - 1) / 4096) * 4096;
  open(my $in, "<", $path) or die "open: $!";
  sysopen(my $out, "$path.partial", O_WRONLY | O_CREAT | O_EXCL, 0640) or die "partial: $!";
  for (my $done = 0; $done < $cut; ) {
    my $n = syscall($copy + 0, fileno($in), pack("q", $done), fileno($out), 0, $cut - $done, 0);
    die "copy_file_range: $!" if $n <= 0;
    $done += $n;
  }
  close($out);
  sysseek($in, 0, SEEK_SET);
  sysread($in, my $saved, 32);
  close($in);
  save('{"base":' . $base . ',"head":0,"rotation":{"phase":"copied","saved":"' . unpack("H*", $saved) . '"}}');
  open(my $rw, "+<", $path) or die "open: $!";
  syswrite($rw, "corral-rotation-marker-0123456789");
  save('{"base":' . $base . ',"head":0,"rotation":{"phase":"marked"}}');
  syscall($sync + 0, fileno($rw), $cut, 0, 7) == 0 or die "sync_file_range: $!";
  syscall($fallocate + 0, fileno($rw), 8, 0, $cut) == 0 or die "collapse: $!";
  close($rw);
  my $backup = sprintf("%s.%020d", $path, $base);
  rename("$path.partial", $backup) or die "rename: $!";
  $base += $cut;
  push @backups, $backup;
  unlink(shift @backups) while @backups > 3;
  save('{"base":' . $base . ',"head":0}');
  $rotations++;
}
my ($user1, $system1) = times;
my $wall = time - $t0;
kill "KILL", -$writer; # the shell and its sleep
waitpid($writer, 0);
printf "{\"rotations\":%d,\"seconds\":%.3f,\"cpuMs\":%.1f}\n", $rotations, $wall, (($user1 - $user0) + ($system1 - $system0)) * 1000;
