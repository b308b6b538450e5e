// SPDX-License-Identifier: Apache-2.0
// Part of threatflow's development Elasticsearch (tools/elasticsearch). Written for this project.
package org.elasticsearch.node;

import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsService;

import java.util.Collection;
import java.util.List;

/**
 * A Node whose plugins come from the class path. It lives in org.elasticsearch.node because
 * NodeServiceProvider, NodeConstruction and this Node constructor are package-private.
 */
public class ThreatflowDevNode extends Node {

    public ThreatflowDevNode(Environment environment, Collection<Class<? extends Plugin>> classpathPlugins) {
        super(NodeConstruction.prepareConstruction(environment, new ClasspathServiceProvider(classpathPlugins), true));
    }

    private static final class ClasspathServiceProvider extends NodeServiceProvider {
        private final List<Class<? extends Plugin>> pluginClasses;

        ClasspathServiceProvider(Collection<Class<? extends Plugin>> pluginClasses) {
            this.pluginClasses = List.copyOf(pluginClasses);
        }

        @Override
        PluginsService newPluginService(Environment environment, Settings settings) {
            return new ClasspathPluginsService(settings, environment.configFile(), pluginClasses);
        }
    }
}
