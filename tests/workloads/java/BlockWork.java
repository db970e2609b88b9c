// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * BlockWork: Java threads that block in named methods for known times, for the tests of the
 * tools on a JVM (the Java counterpart of blockwork.c).
 *
 *   java [JVM OPTIONS] BlockWork [--wait] SCENARIO...
 *
 * Before anything else it calls each named method WARMUP times without blocking (a sleep of
 * 0 ms, a read that the server answers at once), so that the JIT compiles them; with -Xbatch
 * each compilation is done before the warm-up goes on.  --wait then prints "ready PID" and
 * waits for a line on stdin, so that a tracer can attach first.  The scenarios run at the same
 * time, each on a thread of its own.  When all have ended the program exits; with --wait it
 * prints "done" and exits only when stdin ends, so that a tool can still ask the JVM for its
 * perf map at the end of its window:
 *
 *   sleep:N:MS   outerSleep() -> middleSleep() -> innerSleep() calls Thread.sleep(MS), N times
 *   read:N:MS    outerRead() -> middleRead() -> innerRead() asks a local server for a byte and
 *                blocks in the socket's read until serveSlowly() answers, MS ms later; N times
 *   isleep:N:MS  interpretedOuterSleep() -> interpretedInnerSleep() calls Thread.sleep(MS), N
 *                times: never warmed up, and meant to stay interpreted (run the JVM with
 *                -XX:CompileCommand=exclude,BlockWork::interpreted*)
 *
 * The named methods are meant to stay frames of their own: run the JVM with
 * -XX:CompileCommand=dontinline,BlockWork::* (as blockwork.c's functions are noinline), and
 * with -XX:+PreserveFramePointer, without which C2's code uses rbp as a register of its own and
 * no unwinder gets through it (the JVM has no unwind tables for its code).
 *
 * With BLOCKWORK_LOG=FILE it writes the ground truth there, as blockwork.c does: "SCENARIO NS"
 * for every blocking call as measured around it (around innerSleep()'s Thread.sleep, around
 * innerRead()'s read), and "tid SCENARIO TID" for the thread (its Linux TID) that makes them.
 */
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

public class BlockWork {
	static final int WARMUP = Integer.getInteger("blockwork.warmup", 20000);
	static PrintWriter groundTruth;

	static synchronized void note(String line)
	{
		if (groundTruth == null)
			return;
		groundTruth.println(line);
		groundTruth.flush();
	}

	/* The Linux TID of the calling thread: /proc/thread-self links to PID/task/TID */
	static long tid() throws IOException
	{
		String link = Files.readSymbolicLink(Paths.get("/proc/thread-self")).toString();

		return Long.parseLong(link.substring(link.lastIndexOf('/') + 1));
	}

	/* Sleeping */

	static long innerSleep(int ms) throws InterruptedException
	{
		long start = System.nanoTime();

		Thread.sleep(ms);
		return System.nanoTime() - start;
	}

	static long middleSleep(int ms) throws InterruptedException
	{
		return innerSleep(ms);
	}

	static long outerSleep(int ms) throws InterruptedException
	{
		return middleSleep(ms);
	}

	static long interpretedInnerSleep(int ms) throws InterruptedException
	{
		long start = System.nanoTime();

		Thread.sleep(ms);
		return System.nanoTime() - start;
	}

	static long interpretedOuterSleep(int ms) throws InterruptedException
	{
		return interpretedInnerSleep(ms);
	}

	/* Reading from a socket: the client sends the delay (2 bytes, ms), the server sleeps that
	 * long and answers one byte */

	static void serveSlowly(Socket peer)
	{
		try (DataInputStream in = new DataInputStream(peer.getInputStream());
		     OutputStream out = peer.getOutputStream()) {
			for (;;) {
				int ms = in.readUnsignedShort();

				if (ms > 0)
					Thread.sleep(ms);
				out.write('x');
			}
		} catch (IOException | InterruptedException e) {
			/* the client is gone */
		}
	}

	static final class Connection implements AutoCloseable {
		final ServerSocket server;
		final Socket client;
		final DataOutputStream out;
		final InputStream in;
		final Thread server_thread;

		Connection() throws IOException
		{
			server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
			client = new Socket(server.getInetAddress(), server.getLocalPort());
			client.setTcpNoDelay(true);
			Socket peer = server.accept();
			peer.setTcpNoDelay(true);
			server_thread = new Thread(() -> serveSlowly(peer), "serveSlowly");
			server_thread.setDaemon(true);
			server_thread.start();
			out = new DataOutputStream(client.getOutputStream());
			in = client.getInputStream();
		}

		@Override
		public void close() throws IOException
		{
			client.close();
			server.close();
		}
	}

	static long innerRead(Connection c, int ms) throws IOException
	{
		long start;

		c.out.writeShort(ms);
		c.out.flush();
		start = System.nanoTime();
		if (c.in.read() != 'x')
			throw new IOException("the server did not answer");
		return System.nanoTime() - start;
	}

	static long middleRead(Connection c, int ms) throws IOException
	{
		return innerRead(c, ms);
	}

	static long outerRead(Connection c, int ms) throws IOException
	{
		return middleRead(c, ms);
	}

	/* The scenarios */

	static void runScenario(String kind, int n, int ms) throws Exception
	{
		note("tid " + kind + " " + tid());
		switch (kind) {
		case "sleep":
			for (int i = 0; i < n; i++)
				note("sleep " + outerSleep(ms));
			break;
		case "isleep":
			for (int i = 0; i < n; i++)
				note("isleep " + interpretedOuterSleep(ms));
			break;
		case "read":
			try (Connection c = new Connection()) {
				for (int i = 0; i < n; i++)
					note("read " + outerRead(c, ms));
			}
			break;
		default:
			throw new IllegalArgumentException(kind);
		}
	}

	static void warmUp() throws Exception
	{
		try (Connection c = new Connection()) {
			for (int i = 0; i < WARMUP; i++) {
				outerSleep(0);
				outerRead(c, 0);
			}
		}
	}

	public static void main(String[] args) throws Exception
	{
		List<Thread> threads = new ArrayList<>();
		List<Throwable> failures = new ArrayList<>();
		String log = System.getenv("BLOCKWORK_LOG");
		int first = 0;
		boolean wait = args.length > 0 && args[0].equals("--wait");

		if (log != null)
			groundTruth = new PrintWriter(new FileWriter(log, true));
		warmUp();
		if (wait) {
			first = 1;
			System.out.println("ready " + ProcessHandle.current().pid());
			System.out.flush();
			if (System.in.read() < 0)
				return;
		}
		for (int i = first; i < args.length; i++) {
			String[] s = args[i].split(":");

			if (s.length != 3) {
				System.err.println("BlockWork: bad scenario " + args[i] + " (see the source)");
				System.exit(2);
			}
			int n = Integer.parseInt(s[1]), ms = Integer.parseInt(s[2]);
			Thread t = new Thread(() -> {
				try {
					runScenario(s[0], n, ms);
				} catch (Throwable e) {
					synchronized (failures) {
						failures.add(e);
					}
				}
			}, s[0]);

			threads.add(t);
			t.start();
		}
		for (Thread t : threads)
			t.join();
		for (Throwable e : failures)
			e.printStackTrace();
		if (wait) {
			System.out.println("done");
			System.out.flush();
			while (System.in.read() >= 0)
				;
		}
		System.exit(failures.isEmpty() ? 0 : 1);
	}
}
