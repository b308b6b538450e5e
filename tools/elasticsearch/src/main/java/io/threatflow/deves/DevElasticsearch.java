// SPDX-License-Identifier: Apache-2.0
// Part of threatflow's development Elasticsearch (tools/elasticsearch). Written for this project.
package io.threatflow.deves;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.Node;
import org.elasticsearch.node.ThreatflowDevNode;
import org.elasticsearch.transport.netty4.Netty4Plugin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Starts one single-node Elasticsearch 8.14.3 (server + netty4 HTTP, no X-Pack) in this JVM for threatflow's
 * development, demo, tests and benchmarks. Usage: DevElasticsearch [--port N]  (default: $ES_PORT or 9200).
 * The transport port is the HTTP port + 100. Everything is kept under -Dthreatflow.es.dir (tools/elasticsearch)/data.
 */
public final class DevElasticsearch {

    private DevElasticsearch() {}

    public static void main(String[] args) throws Exception {
        int port = parsePort(args);
        Path dir = Path.of(System.getProperty("threatflow.es.dir", ".")).toAbsolutePath().normalize();
        Path data = dir.resolve("data");
        Path home = data.resolve("home");
        Path config = dir.resolve("config");
        Files.createDirectories(home);
        Files.createDirectories(data.resolve("logs"));

        String nodeName = "threatflow-dev-" + port;
        Settings settings = Settings.builder()
            .put("cluster.name", "threatflow-dev")
            .put("node.name", nodeName)
            .put("path.home", home.toString())
            .put("path.data", data.resolve("node-" + port).toString())
            .put("path.logs", data.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("transport.port", port + 100)
            .put("discovery.type", "single-node")
            // a dev box's disk is often fuller than a server's: don't turn indices read-only at 95 %
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();
        Environment environment = new Environment(settings, config);

        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.configure(environment, true);
        Logger logger = LogManager.getLogger(DevElasticsearch.class);

        long t0 = System.nanoTime();
        Node node = new ThreatflowDevNode(environment, List.of(Netty4Plugin.class, DevRestPlugin.class));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.prepareForClose();
                node.close();
                if (node.awaitClose(20, TimeUnit.SECONDS) == false) {
                    logger.warn("node did not close within 20s");
                }
            } catch (Exception e) {
                logger.warn("error while stopping the node", e);
            } finally {
                stopped.countDown();
                LogManager.shutdown();
            }
        }, "threatflow-dev-es-shutdown"));
        try {
            node.start();
        } catch (Exception e) {
            logger.error("threatflow dev Elasticsearch failed to start on port " + port + ": " + e.getMessage(), e);
            System.exit(1); // runs the shutdown hook, which closes the node
        }
        logger.info(
            "threatflow dev Elasticsearch {} started in {} ms: http://127.0.0.1:{} (transport {}), data {}",
            org.elasticsearch.Build.current().qualifiedVersion(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
            port,
            port + 100,
            data
        );
        stopped.await(); // ES threads are daemons: keep the JVM alive until the shutdown hook has run
    }

    private static int parsePort(String[] args) {
        String value = System.getenv().getOrDefault("ES_PORT", "9200");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--port") && i + 1 < args.length) {
                value = args[++i];
            } else if (args[i].startsWith("--port=")) {
                value = args[i].substring("--port=".length());
            } else {
                throw new IllegalArgumentException("unknown argument: " + args[i] + " (usage: [--port N])");
            }
        }
        int port = Integer.parseInt(value.trim());
        if (port < 1 || port > 65435) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        return port;
    }
}
