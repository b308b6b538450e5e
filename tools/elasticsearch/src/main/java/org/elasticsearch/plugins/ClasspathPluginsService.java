// SPDX-License-Identifier: Apache-2.0
// Part of threatflow's development Elasticsearch (tools/elasticsearch). Written for this project.
package org.elasticsearch.plugins;

import org.elasticsearch.Version;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.jdk.ModuleQualifiedExportsService;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A PluginsService that loads no module or plugin directories (there is no ES distribution on disk) and
 * instead instantiates the given plugin classes straight from the application class path.
 * It lives in org.elasticsearch.plugins because the record LoadedPlugin and loadPlugin() are package-private.
 */
public class ClasspathPluginsService extends PluginsService {

    private final List<LoadedPlugin> classpathPlugins;

    public ClasspathPluginsService(Settings settings, Path configPath, Collection<Class<? extends Plugin>> pluginClasses) {
        super(settings, configPath, null, null);
        List<LoadedPlugin> all = new ArrayList<>(super.plugins());
        for (Class<? extends Plugin> pluginClass : pluginClasses) {
            Plugin instance = loadPlugin(pluginClass, settings, configPath);
            PluginDescriptor descriptor = new PluginDescriptor(
                pluginClass.getSimpleName(),
                "loaded from the class path by threatflow's dev launcher",
                Version.CURRENT.toString(),
                Version.CURRENT.toString(),
                Runtime.version().feature() + "",
                pluginClass.getName(),
                null,
                List.of(),
                false,
                false,
                false,
                false
            );
            all.add(new LoadedPlugin(descriptor, instance));
        }
        this.classpathPlugins = List.copyOf(all);
    }

    @Override
    protected List<LoadedPlugin> plugins() {
        // the super constructor may call this before our field is set
        return classpathPlugins == null ? super.plugins() : classpathPlugins;
    }

    @Override
    protected void addServerExportsService(Map<String, List<ModuleQualifiedExportsService>> qualifiedExports) {
        // the server runs in the unnamed module here: there are no qualified exports to wire up
    }
}
