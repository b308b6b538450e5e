// SPDX-License-Identifier: Apache-2.0
// Part of threatflow's development Elasticsearch (tools/elasticsearch). Written for this project.
package io.threatflow.deves;

import org.elasticsearch.ResourceAlreadyExistsException;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.action.admin.indices.create.AutoCreateAction;
import org.elasticsearch.action.admin.indices.create.CreateIndexRequest;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.ClusterState;
import org.elasticsearch.cluster.ClusterStateUpdateTask;
import org.elasticsearch.cluster.health.ClusterHealthStatus;
import org.elasticsearch.cluster.health.ClusterIndexHealth;
import org.elasticsearch.cluster.metadata.ComposableIndexTemplate;
import org.elasticsearch.cluster.metadata.DataStream;
import org.elasticsearch.cluster.metadata.IndexMetadata;
import org.elasticsearch.cluster.metadata.Metadata;
import org.elasticsearch.cluster.metadata.MetadataDeleteIndexService;
import org.elasticsearch.cluster.metadata.MetadataIndexTemplateService;
import org.elasticsearch.cluster.routing.IndexRoutingTable;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.Priority;
import org.elasticsearch.common.Strings;
import org.elasticsearch.common.regex.Regex;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.core.TimeValue;
import org.elasticsearch.index.Index;
import org.elasticsearch.index.IndexNotFoundException;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestChannel;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Minimal stand-ins for the data stream management APIs, whose REST and transport actions live in the
 * data-streams module (not published on Maven Central). Data streams themselves (templates with
 * data_stream: {}, auto-creation by bulk create, rollover, search) are server features and work without them.
 * Only these are provided: GET /_data_stream[/{name}], PUT /_data_stream/{name}, DELETE /_data_stream/{name}.
 * Names are comma lists with * wildcards. The GET body has the commonly used fields of the real response.
 */
final class DataStreamHandlers {

    private DataStreamHandlers() {}

    static List<RestHandler> create(Supplier<ClusterService> clusterService, Settings settings) {
        return List.of(new GetHandler(clusterService), new PutHandler(clusterService), new DeleteHandler(clusterService, settings));
    }

    /** the data streams named by the expression, sorted; a concrete name that does not exist is a 404 */
    static List<DataStream> resolve(Metadata metadata, String expression) {
        TreeMap<String, DataStream> all = new TreeMap<>(metadata.dataStreams());
        if (expression == null || expression.isEmpty() || expression.equals("_all") || expression.equals("*")) {
            return new ArrayList<>(all.values());
        }
        TreeMap<String, DataStream> found = new TreeMap<>();
        for (String part : Strings.splitStringByCommaToArray(expression)) {
            if (Regex.isSimpleMatchPattern(part)) {
                all.forEach((name, ds) -> {
                    if (Regex.simpleMatch(part, name)) {
                        found.put(name, ds);
                    }
                });
            } else {
                DataStream ds = all.get(part);
                if (ds == null) {
                    throw new IndexNotFoundException(part);
                }
                found.put(part, ds);
            }
        }
        return new ArrayList<>(found.values());
    }

    private static final class GetHandler extends BaseRestHandler {
        private final Supplier<ClusterService> clusterService;

        GetHandler(Supplier<ClusterService> clusterService) {
            this.clusterService = clusterService;
        }

        @Override
        public String getName() {
            return "threatflow_dev_get_data_stream_action";
        }

        @Override
        public List<Route> routes() {
            return List.of(new Route(RestRequest.Method.GET, "/_data_stream"), new Route(RestRequest.Method.GET, "/_data_stream/{name}"));
        }

        @Override
        protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
            String expression = request.param("name");
            ClusterState state = clusterService.get().state();
            List<DataStream> streams = resolve(state.metadata(), expression);
            return channel -> {
                XContentBuilder b = channel.newBuilder();
                b.startObject().startArray("data_streams");
                for (DataStream ds : streams) {
                    writeDataStream(b, ds, state);
                }
                b.endArray().endObject();
                channel.sendResponse(new RestResponse(RestStatus.OK, b));
            };
        }

        private static void writeDataStream(XContentBuilder b, DataStream ds, ClusterState state) throws IOException {
            Metadata metadata = state.metadata();
            ClusterHealthStatus status = ClusterHealthStatus.GREEN;
            b.startObject();
            b.field("name", ds.getName());
            b.startObject("timestamp_field").field("name", DataStream.TIMESTAMP_FIELD_NAME).endObject();
            b.startArray("indices");
            for (Index index : ds.getIndices()) {
                b.startObject().field("index_name", index.getName()).field("index_uuid", index.getUUID()).endObject();
                IndexMetadata im = metadata.index(index);
                IndexRoutingTable rt = state.routingTable().index(index);
                if (im != null && rt != null) {
                    ClusterHealthStatus s = new ClusterIndexHealth(im, rt).getStatus();
                    if (s.value() > status.value()) {
                        status = s;
                    }
                } else {
                    status = ClusterHealthStatus.RED;
                }
            }
            b.endArray();
            b.field("generation", ds.getGeneration());
            if (ds.getMetadata() != null) {
                b.field("_meta", ds.getMetadata());
            }
            b.field("status", status.name());
            String template = MetadataIndexTemplateService.findV2Template(metadata, ds.getName(), false);
            if (template != null) {
                b.field("template", template);
            }
            b.field("hidden", ds.isHidden());
            b.field("system", ds.isSystem());
            b.field("allow_custom_routing", ds.isAllowCustomRouting());
            b.field("replicated", ds.isReplicated());
            b.field("rollover_on_write", ds.rolloverOnWrite());
            b.endObject();
        }
    }

    private static final class PutHandler extends BaseRestHandler {
        private final Supplier<ClusterService> clusterService;

        PutHandler(Supplier<ClusterService> clusterService) {
            this.clusterService = clusterService;
        }

        @Override
        public String getName() {
            return "threatflow_dev_create_data_stream_action";
        }

        @Override
        public List<Route> routes() {
            return List.of(new Route(RestRequest.Method.PUT, "/_data_stream/{name}"));
        }

        @Override
        protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
            String name = request.param("name");
            Metadata metadata = clusterService.get().state().metadata();
            if (metadata.dataStreams().containsKey(name)) {
                throw new ResourceAlreadyExistsException("data_stream [" + name + "] already exists");
            }
            String template = MetadataIndexTemplateService.findV2Template(metadata, name, false);
            ComposableIndexTemplate composable = template == null ? null : metadata.templatesV2().get(template);
            if (composable == null || composable.getDataStreamTemplate() == null) {
                throw new IllegalArgumentException("no matching index template found for data stream [" + name + "]");
            }
            // the server's auto-create action creates a data stream when the matching template says so
            CreateIndexRequest create = new CreateIndexRequest(name).cause("create-data-stream").requireDataStream(true);
            return channel -> client.execute(AutoCreateAction.INSTANCE, create, ActionListener.wrap(r -> {
                XContentBuilder b = channel.newBuilder().startObject().field("acknowledged", true).endObject();
                channel.sendResponse(new RestResponse(RestStatus.OK, b));
            }, e -> sendError(channel, e)));
        }
    }

    private static final class DeleteHandler extends BaseRestHandler {
        private final Supplier<ClusterService> clusterService;
        private final Settings settings;

        DeleteHandler(Supplier<ClusterService> clusterService, Settings settings) {
            this.clusterService = clusterService;
            this.settings = settings;
        }

        @Override
        public String getName() {
            return "threatflow_dev_delete_data_stream_action";
        }

        @Override
        public List<Route> routes() {
            return List.of(new Route(RestRequest.Method.DELETE, "/_data_stream/{name}"));
        }

        @Override
        protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
            String expression = request.param("name");
            TimeValue timeout = request.paramAsTime("master_timeout", TimeValue.timeValueSeconds(30));
            resolve(clusterService.get().state().metadata(), expression); // 404 early for a missing concrete name
            return channel -> clusterService.get().submitUnbatchedStateUpdateTask(
                "delete-data-stream [" + expression + "]",
                new ClusterStateUpdateTask(Priority.HIGH, timeout) {
                    @Override
                    public ClusterState execute(ClusterState current) {
                        List<DataStream> streams = resolve(current.metadata(), expression);
                        if (streams.isEmpty()) {
                            return current;
                        }
                        Set<Index> backing = new HashSet<>();
                        Metadata.Builder metadata = Metadata.builder(current.metadata());
                        for (DataStream ds : streams) {
                            backing.addAll(ds.getIndices());
                            backing.addAll(ds.getFailureIndices());
                            metadata.removeDataStream(ds.getName());
                        }
                        ClusterState withoutStreams = ClusterState.builder(current).metadata(metadata).build();
                        return MetadataDeleteIndexService.deleteIndices(withoutStreams, backing, settings);
                    }

                    @Override
                    public void onFailure(Exception e) {
                        sendError(channel, e);
                    }

                    @Override
                    public void clusterStateProcessed(ClusterState oldState, ClusterState newState) {
                        try {
                            XContentBuilder b = channel.newBuilder().startObject().field("acknowledged", true).endObject();
                            channel.sendResponse(new RestResponse(RestStatus.OK, b));
                        } catch (IOException e) {
                            sendError(channel, e);
                        }
                    }
                }
            );
        }
    }

    static void sendError(RestChannel channel, Exception e) {
        try {
            channel.sendResponse(new RestResponse(channel, e));
        } catch (Exception inner) {
            inner.addSuppressed(e);
            channel.sendResponse(new RestResponse(RestStatus.INTERNAL_SERVER_ERROR, inner.toString()));
        }
    }
}
